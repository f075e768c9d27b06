// The reference server lands with issue 11; see README.md.
export {};
