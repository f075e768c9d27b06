// Populated as the package's features land; see README.md.
export {};
