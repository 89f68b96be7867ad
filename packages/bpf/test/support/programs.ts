// Random programs that pass the kernel's checks, for interpreter and optimiser property tests.
import fc from 'fast-check';
import type { RawInstruction } from '../../src/instructions.ts';

// Programs that libpcap and the kernel agree on: no ancillary or negative loads, no shifts by X.
export const validProgram: fc.Arbitrary<RawInstruction[]> = fc
  .array(
    fc.oneof(
      fc.record({ code: fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xb1), k: fc.nat({ max: 80 }) }),
      fc.record({
        code: fc.constantFrom(0x00, 0x01, 0x07, 0x87, 0x80, 0x84),
        k: fc.nat({ max: 0xffffffff }),
      }),
      fc.record({ code: fc.constantFrom(0x02, 0x03), k: fc.nat({ max: 15 }) }),
      fc.record({
        code: fc.constantFrom(
          0x04,
          0x14,
          0x24,
          0x34,
          0x44,
          0x54,
          0x64,
          0x74,
          0x94,
          0xa4,
          0x0c,
          0x1c,
          0x2c,
          0x3c,
          0x4c,
          0x5c,
          0x9c,
          0xac,
        ),
        k: fc.nat({ max: 31 }),
      }),
      fc.record({
        code: fc.constantFrom(0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d),
        k: fc.nat({ max: 300 }),
      }),
    ),
    { minLength: 1, maxLength: 25 },
  )
  .chain((body) =>
    fc.tuple(
      fc.constant(body),
      fc.array(fc.nat({ max: 30 }), { minLength: body.length * 2, maxLength: body.length * 2 }),
    ),
  )
  .map(([body, jumps]) => {
    const n = body.length + 2;
    const prog: RawInstruction[] = body.map(({ code, k }, pc) => {
      const cond = (code & 7) === 5;
      const room = n - pc - 2;
      const kk = (code & 0xf0) === 0x30 || (code & 0xf0) === 0x90 ? k || 1 : k;
      return {
        code,
        jt: cond ? jumps[2 * pc]! % (room + 1) : 0,
        jf: cond ? jumps[2 * pc + 1]! % (room + 1) : 0,
        k: kk,
      };
    });
    // Scratch reads must follow writes; prefix stores of every word so the kernel rules hold.
    prog.push({ code: 0x16, jt: 0, jf: 0, k: 0 }, { code: 0x06, jt: 0, jf: 0, k: 0x40000 });
    return prog;
  });
