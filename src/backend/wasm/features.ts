// Feature probes: tiny hand-assembled modules given to WebAssembly.validate, so that detection
// never compiles or runs anything real.

const V128_ZERO = new Array<number>(16).fill(0);
const V128_CONST = [0xfd, 0x0c, ...V128_ZERO];

/** A module with one function `() -> v128` whose body is `instructions`. */
function probe(instructions: number[]): Uint8Array<ArrayBuffer> {
  const body = [0x00, ...instructions, 0x0b]; // no locals, ..., end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** True where the engine accepts 128-bit SIMD (v128.const). */
export function hasSimd(): boolean {
  return validates(probe(V128_CONST));
}

/** True where the engine accepts relaxed SIMD (f32x4.relaxed_madd, opcode 0xfd 0x105). */
export function hasRelaxedSimd(): boolean {
  return validates(probe([...V128_CONST, ...V128_CONST, ...V128_CONST, 0xfd, 0x85, 0x02]));
}
