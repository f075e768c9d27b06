/**
 * The GGUF file format, version 3 (llama.cpp's single-file model format): a little-endian header with
 * typed key/value metadata and tensor descriptions, then the tensor data, each tensor aligned.
 *
 *   uint32 magic "GGUF" · uint32 version · uint64 tensor count · uint64 metadata count
 *   metadata: string key · uint32 value type · value            (strings: uint64 byte length + UTF-8)
 *   tensors:  string name · uint32 dimension count · uint64 dimensions (innermost first) ·
 *             uint32 ggml type · uint64 offset into the data section
 *   padding to `general.alignment` (32 unless the metadata says otherwise), then the data section.
 */

/** "GGUF" read as a little-endian uint32. */
export const ggufMagic = 0x46554747;
export const ggufVersion = 3;
export const ggufDefaultAlignment = 32;
/** GGUF limits a tensor name to 64 bytes. */
export const ggufMaxTensorNameBytes = 64;
/** ggml tensors have at most 4 dimensions. */
export const ggufMaxDimensions = 4;

/** The metadata value types and their ids. */
export const ggufValueTypeIds = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufScalarType = Exclude<keyof typeof ggufValueTypeIds, 'array'>;
export type GgufNumberType = Exclude<GgufScalarType, 'bool' | 'string' | 'uint64' | 'int64'>;

/** One metadata value with its GGUF type (the type is explicit: 3 may be a uint32, an int32 or a float32). */
export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: 'uint64' | 'int64'; value: number | bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | {
      type: 'array';
      itemType: GgufScalarType;
      value: readonly (number | bigint | boolean | string)[];
    };

/** The ggml tensor types this writer stores: id (ggml's `ggml_type`) and bytes per element. */
export const ggmlTensorTypes = {
  F32: { id: 0, bytesPerElement: 4 },
  F16: { id: 1, bytesPerElement: 2 },
  BF16: { id: 30, bytesPerElement: 2 },
} as const;

export type GgufTensorType = keyof typeof ggmlTensorTypes;

/** `general.file_type` (llama.cpp's `llama_ftype`) for a file whose large matrices have this type. */
export const ggufFileTypes: Record<GgufTensorType, number> = { F32: 0, F16: 1, BF16: 32 };
