/**
 * The result of a BPF ALU operation (the `BPF_OP` bits of a `BPF_ALU` code other than `neg`) with the
 * kernel's semantics: 32-bit unsigned wrap-around, shifts by the low five bits. Undefined for a division or
 * modulo by zero (the kernel ends the program with 0) and for codes that are not ALU operations. Shared by
 * the interpreter and the optimiser's constant folding, so both agree on every value.
 */
export function aluResult(op: number, a: number, b: number): number | undefined {
  switch (op) {
    case 0x00:
      return (a + b) >>> 0;
    case 0x10:
      return (a - b) >>> 0;
    case 0x20:
      return Math.imul(a, b) >>> 0;
    case 0x30:
      return b === 0 ? undefined : Math.floor(a / b) >>> 0;
    case 0x90:
      return b === 0 ? undefined : (a % b) >>> 0;
    case 0x40:
      return (a | b) >>> 0;
    case 0x50:
      return (a & b) >>> 0;
    case 0xa0:
      return (a ^ b) >>> 0;
    case 0x60:
      return (a << (b & 31)) >>> 0;
    case 0x70:
      return a >>> (b & 31);
    default:
      return undefined;
  }
}
