// The x86 opcode table: every fact about an opcode that more than one part of Vireo needs,
// declared once (SDM Vol. 2 Appendix A, Tables, and each instruction's page).
// Derived from it (./derive.ts): the interpreter's byte tables (generated into AssemblyScript
// by scripts/build-core.mjs), the translator's decoder and block rules.
//
// One row per opcode of the one-byte map (map 0) and the 0F map (map 0x0F); group opcodes
// (ModRM.reg extends the opcode) have one row per reg that differs. Rows with `impl: false`
// are encodings this i686 does not execute (#UD), kept for their length (ModRM, immediate).
// Shaped for x86-64: a later decoder adds REX (40-4F in 64-bit mode, `x64: "rex"`), reads the
// i64/d64/f64 marks, and widens `iz` operands to 64 bits where `x64` says so.

/** EFLAGS bits (SDM Vol. 1 §3.4.3), for `read` and `write`. */
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;
/** Every EFLAGS bit (POPF, IRET, far transfers through gates and tasks). */
export const ALL = 0x3f_7fd5;

/** Immediate operands after ModRM/SIB/displacement. */
export type Imm =
  | "none"
  | "ib" // 8 bits
  | "iw" // 16 bits
  | "iz" // 16 or 32 bits by operand size (32, sign-extended, with a 64-bit operand size)
  | "iwib" // ENTER: iw then ib
  | "ptr" // far pointer: offset (16 or 32 by operand size), then a 16-bit selector
  | "moffs"; // MOV A0-A3: an offset of the address size

/** How the instruction may move EIP other than to the next instruction. */
export type Flow = "none" | "jcc" | "jmp" | "call" | "ret" | "loop" | "far" | "int" | "iret" | "sys";

/** SDM Table A-1 superscripts for 64-bit mode: i64 invalid, d64 default 64-bit operand size,
 *  f64 operand size forced to 64 bits; "rex" the byte is a REX prefix; "movsxd" 63 is MOVSXD. */
export type X64 = "i64" | "d64" | "f64" | "rex" | "movsxd";

export interface OpcodeDef {
  /** 0 for the one-byte map, 0x0F for the two-byte map. */
  map: 0 | 0x0f;
  /** The opcode byte within its map. */
  op: number;
  /** ModRM.reg of a group row (opcode extension); absent: every reg. */
  reg?: number;
  name: string;
  modrm: boolean;
  imm: Imm;
  /** Arithmetic flags (and DF, IF) the instruction reads / may change (undefined ones too). */
  read: number;
  write: number;
  /** The flags the SDM leaves undefined afterwards (count-dependent shifts: those undefined for
   *  some count), whether or not Vireo changes them (`write`; BT* leaves them as they were).
   *  Set from UNDEFINED_FLAGS below. */
  undef?: number;
  /** LOCK is valid with a memory destination (SDM Vol. 2A LOCK); otherwise #UD. */
  lock: boolean;
  flow: Flow;
  /** The translator generates this row inline ("inline"), or it calls the interpreter for it
   *  inside the block ("step"). Either may still decline one form and step it instead. */
  jit: "inline" | "step";
  /** A translated block ends after it: a control transfer, or a change to what a block assumes
   *  (segments, paging, CPL, EFLAGS.IF/TF, I/O, a PAUSE exit). */
  ends: boolean;
  /** The interpreter's handler writes no GPR and no flag before its last possible fault (or
   *  saves them itself), so the step loop need not copy them first. */
  precise: boolean;
  /** Executed by this CPU; false: #UD, the row only gives the encoding's length. */
  impl: boolean;
  /** Undocumented (SALC, INT1): the translator leaves it to the interpreter. */
  undocumented?: boolean;
  x64?: X64;
}

type Props = Partial<Omit<OpcodeDef, "map" | "op" | "name">>;
const DEFAULTS = {
  modrm: false, imm: "none", read: 0, write: 0, lock: false, flow: "none", jit: "step", ends: false,
  precise: false, impl: true,
} as const;

const rows: OpcodeDef[] = [];
function def(map: 0 | 0x0f, op: number, name: string, p: Props = {}): void {
  rows.push({ map, op, name, ...DEFAULTS, ...p });
}
const one = (op: number, name: string, p: Props = {}) => def(0, op, name, p);
const two = (op: number, name: string, p: Props = {}) => def(0x0f, op, name, p);
function range(a: number, b: number, f: (op: number) => void): void {
  for (let op = a; op <= b; op++) f(op);
}
/** A group opcode: one row per reg, from `names` (null: no instruction, #UD). */
function group(map: 0 | 0x0f, op: number, names: (string | null)[], p: (reg: number) => Props): void {
  names.forEach((name, reg) => def(map, op, name ?? "(#UD)", { reg, ...p(reg), ...(name ? {} : { impl: false, jit: "step", lock: false }) }));
}

const CC = ["O", "NO", "B", "AE", "E", "NE", "BE", "A", "S", "NS", "P", "NP", "L", "GE", "LE", "G"];
/** Flags condition code cc reads (SDM Vol. 1 Appendix B). */
const CC_READ = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];
const ALU = ["ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"];
const SHIFT = ["ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAL", "SAR"];
const aluRead = (k: number) => (k === 2 || k === 3 ? CF : 0);
const shiftRead = (k: number) => (k === 2 || k === 3 ? CF : 0);
const shiftWrite = (k: number) => (k < 4 ? CF | OF : ARITH);

// ---- one-byte map (Table A-2) ----------------------------------------------------------------
for (let k = 0; k < 8; k++) {
  const b = k << 3, n = ALU[k]!, r = aluRead(k), lock = k !== 7;
  const p: Props = { read: r, write: ARITH, jit: "inline", precise: true };
  one(b, `${n} Eb,Gb`, { ...p, modrm: true, lock });
  one(b + 1, `${n} Ev,Gv`, { ...p, modrm: true, lock });
  one(b + 2, `${n} Gb,Eb`, { ...p, modrm: true });
  one(b + 3, `${n} Gv,Ev`, { ...p, modrm: true });
  one(b + 4, `${n} AL,Ib`, { ...p, imm: "ib" });
  one(b + 5, `${n} eAX,Iz`, { ...p, imm: "iz" });
}
const SREG = ["ES", "CS", "SS", "DS"];
for (const [op, s] of [[0x06, 0], [0x0e, 1], [0x16, 2], [0x1e, 3]] as const) {
  one(op, `PUSH ${SREG[s]}`, { x64: "i64" });
  if (op !== 0x0e) one(op + 1, `POP ${SREG[s]}`, { x64: "i64", ends: true });
}
// 26 2E 36 3E: segment-override prefixes (PREFIXES below); 0F: the two-byte escape.
one(0x27, "DAA", { read: CF | AF, write: ARITH, precise: true, x64: "i64" });
one(0x2f, "DAS", { read: CF | AF, write: ARITH, precise: true, x64: "i64" });
one(0x37, "AAA", { read: AF, write: ARITH, precise: true, x64: "i64" });
one(0x3f, "AAS", { read: AF, write: ARITH, precise: true, x64: "i64" });
range(0x40, 0x47, (op) => one(op, "INC Zv", { read: CF, write: ARITH & ~CF, jit: "inline", precise: true, x64: "rex" }));
range(0x48, 0x4f, (op) => one(op, "DEC Zv", { read: CF, write: ARITH & ~CF, jit: "inline", precise: true, x64: "rex" }));
range(0x50, 0x57, (op) => one(op, "PUSH Zv", { jit: "inline", precise: true, x64: "d64" }));
range(0x58, 0x5f, (op) => one(op, "POP Zv", { jit: "inline", precise: true, x64: "d64" }));
one(0x60, "PUSHA", { x64: "i64" });
one(0x61, "POPA", { x64: "i64" });
one(0x62, "BOUND Gv,Ma", { modrm: true, x64: "i64" }); // #BR is a fault, not a transfer
one(0x63, "ARPL Ew,Gw", { modrm: true, write: ZF, ends: true, x64: "movsxd" });
// 64 65 66 67: prefixes.
one(0x68, "PUSH Iz", { imm: "iz", jit: "inline", precise: true, x64: "d64" });
one(0x69, "IMUL Gv,Ev,Iz", { modrm: true, imm: "iz", write: ARITH, jit: "inline", precise: true });
one(0x6a, "PUSH Ib", { imm: "ib", jit: "inline", precise: true, x64: "d64" });
one(0x6b, "IMUL Gv,Ev,Ib", { modrm: true, imm: "ib", write: ARITH, jit: "inline", precise: true });
one(0x6c, "INSB", { read: DF, ends: true });
one(0x6d, "INSW/D", { read: DF, ends: true });
one(0x6e, "OUTSB", { read: DF, ends: true });
one(0x6f, "OUTSW/D", { read: DF, ends: true });
range(0x70, 0x7f, (op) => one(op, `J${CC[op & 15]} Jb`, { imm: "ib", read: CC_READ[op & 15], flow: "jcc", jit: "inline", ends: true, precise: true, x64: "f64" }));
for (const [op, imm] of [[0x80, "ib"], [0x81, "iz"], [0x82, "ib"], [0x83, "ib"]] as const) {
  group(0, op, ALU, (k) => ({
    modrm: true, imm, read: aluRead(k), write: ARITH, lock: k !== 7, precise: true,
    jit: op === 0x82 ? "step" : "inline", ...(op === 0x82 ? { x64: "i64" as const } : {}),
  }));
}
one(0x84, "TEST Eb,Gb", { modrm: true, write: ARITH, jit: "inline", precise: true });
one(0x85, "TEST Ev,Gv", { modrm: true, write: ARITH, jit: "inline", precise: true });
one(0x86, "XCHG Eb,Gb", { modrm: true, lock: true, jit: "inline", precise: true });
one(0x87, "XCHG Ev,Gv", { modrm: true, lock: true, jit: "inline", precise: true });
one(0x88, "MOV Eb,Gb", { modrm: true, jit: "inline", precise: true });
one(0x89, "MOV Ev,Gv", { modrm: true, jit: "inline", precise: true });
one(0x8a, "MOV Gb,Eb", { modrm: true, jit: "inline", precise: true });
one(0x8b, "MOV Gv,Ev", { modrm: true, jit: "inline", precise: true });
one(0x8c, "MOV Ev,Sw", { modrm: true, precise: true });
one(0x8d, "LEA Gv,M", { modrm: true, jit: "inline", precise: true });
one(0x8e, "MOV Sw,Ew", { modrm: true, ends: true });
group(0, 0x8f, ["POP Ev", null, null, null, null, null, null, null], () => ({ modrm: true, x64: "d64" }));
one(0x90, "NOP / PAUSE", { jit: "inline", precise: true }); // F3 90 (PAUSE) may end the run loop: see the translator
range(0x91, 0x97, (op) => one(op, "XCHG Zv,eAX", { jit: "inline", precise: true }));
one(0x98, "CBW/CWDE", { jit: "inline", precise: true });
one(0x99, "CWD/CDQ", { jit: "inline", precise: true });
one(0x9a, "CALL Ap", { imm: "ptr", flow: "far", ends: true, x64: "i64" });
one(0x9b, "FWAIT");
one(0x9c, "PUSHF", { read: ALL, precise: true, x64: "d64" });
one(0x9d, "POPF", { write: ALL, ends: true, x64: "d64" });
one(0x9e, "SAHF", { write: ARITH & ~OF, precise: true });
one(0x9f, "LAHF", { read: ARITH & ~OF, precise: true });
one(0xa0, "MOV AL,Ob", { imm: "moffs", jit: "inline", precise: true });
one(0xa1, "MOV eAX,Ov", { imm: "moffs", jit: "inline", precise: true });
one(0xa2, "MOV Ob,AL", { imm: "moffs", jit: "inline", precise: true });
one(0xa3, "MOV Ov,eAX", { imm: "moffs", jit: "inline", precise: true });
one(0xa4, "MOVSB", { read: DF });
one(0xa5, "MOVSW/D", { read: DF });
one(0xa6, "CMPSB", { read: DF, write: ARITH });
one(0xa7, "CMPSW/D", { read: DF, write: ARITH });
one(0xa8, "TEST AL,Ib", { imm: "ib", write: ARITH, jit: "inline", precise: true });
one(0xa9, "TEST eAX,Iz", { imm: "iz", write: ARITH, jit: "inline", precise: true });
one(0xaa, "STOSB", { read: DF });
one(0xab, "STOSW/D", { read: DF });
one(0xac, "LODSB", { read: DF });
one(0xad, "LODSW/D", { read: DF });
one(0xae, "SCASB", { read: DF, write: ARITH });
one(0xaf, "SCASW/D", { read: DF, write: ARITH });
range(0xb0, 0xb7, (op) => one(op, "MOV Zb,Ib", { imm: "ib", jit: "inline", precise: true }));
range(0xb8, 0xbf, (op) => one(op, "MOV Zv,Iv", { imm: "iz", jit: "inline", precise: true }));
for (const [op, imm] of [[0xc0, "ib"], [0xc1, "ib"]] as const) {
  group(0, op, SHIFT, (k) => ({ modrm: true, imm, read: shiftRead(k), write: shiftWrite(k), jit: "inline", precise: true }));
}
one(0xc2, "RET Iw", { imm: "iw", flow: "ret", jit: "inline", ends: true, precise: true, x64: "f64" });
one(0xc3, "RET", { flow: "ret", jit: "inline", ends: true, precise: true, x64: "f64" });
one(0xc4, "LES Gz,Mp", { modrm: true, ends: true, x64: "i64" });
one(0xc5, "LDS Gz,Mp", { modrm: true, ends: true, x64: "i64" });
group(0, 0xc6, ["MOV Eb,Ib", null, null, null, null, null, null, null], () => ({ modrm: true, imm: "ib", jit: "inline", precise: true }));
group(0, 0xc7, ["MOV Ev,Iz", null, null, null, null, null, null, null], () => ({ modrm: true, imm: "iz", jit: "inline", precise: true }));
one(0xc8, "ENTER Iw,Ib", { imm: "iwib", x64: "d64" });
one(0xc9, "LEAVE", { x64: "d64" });
one(0xca, "RETF Iw", { imm: "iw", flow: "far", write: ALL, ends: true });
one(0xcb, "RETF", { flow: "far", write: ALL, ends: true });
one(0xcc, "INT3", { flow: "int", write: ALL, ends: true });
one(0xcd, "INT Ib", { imm: "ib", flow: "int", write: ALL, ends: true });
one(0xce, "INTO", { read: OF, flow: "int", write: ALL, ends: true, x64: "i64" });
one(0xcf, "IRET", { flow: "iret", write: ALL, ends: true });
for (const [op, count] of [[0xd0, "1"], [0xd1, "1"], [0xd2, "CL"], [0xd3, "CL"]] as const) {
  group(0, op, SHIFT.map((s) => `${s} E,${count}`), (k) => ({ modrm: true, read: shiftRead(k), write: shiftWrite(k), jit: "inline", precise: true }));
}
one(0xd4, "AAM Ib", { imm: "ib", write: ARITH, precise: true, x64: "i64" });
one(0xd5, "AAD Ib", { imm: "ib", write: ARITH, precise: true, x64: "i64" });
one(0xd6, "SALC", { read: CF, precise: true, undocumented: true, x64: "i64" });
one(0xd7, "XLAT", { precise: true });
range(0xd8, 0xdf, (op) => one(op, `ESC ${op - 0xd8} (x87)`, { modrm: true }));
one(0xe0, "LOOPNE Jb", { imm: "ib", read: ZF, flow: "loop", ends: true, precise: true, x64: "f64" });
one(0xe1, "LOOPE Jb", { imm: "ib", read: ZF, flow: "loop", ends: true, precise: true, x64: "f64" });
one(0xe2, "LOOP Jb", { imm: "ib", flow: "loop", ends: true, precise: true, x64: "f64" });
one(0xe3, "JCXZ Jb", { imm: "ib", flow: "jcc", ends: true, precise: true, x64: "f64" });
one(0xe4, "IN AL,Ib", { imm: "ib", ends: true });
one(0xe5, "IN eAX,Ib", { imm: "ib", ends: true });
one(0xe6, "OUT Ib,AL", { imm: "ib", ends: true });
one(0xe7, "OUT Ib,eAX", { imm: "ib", ends: true });
one(0xe8, "CALL Jz", { imm: "iz", flow: "call", jit: "inline", ends: true, precise: true, x64: "f64" });
one(0xe9, "JMP Jz", { imm: "iz", flow: "jmp", jit: "inline", ends: true, precise: true, x64: "f64" });
one(0xea, "JMP Ap", { imm: "ptr", flow: "far", ends: true, x64: "i64" });
one(0xeb, "JMP Jb", { imm: "ib", flow: "jmp", jit: "inline", ends: true, precise: true, x64: "f64" });
one(0xec, "IN AL,DX", { ends: true });
one(0xed, "IN eAX,DX", { ends: true });
one(0xee, "OUT DX,AL", { ends: true });
one(0xef, "OUT DX,eAX", { ends: true });
// F0 F2 F3: prefixes.
one(0xf1, "INT1", { flow: "int", write: ALL, ends: true, undocumented: true });
one(0xf4, "HLT", { ends: true });
one(0xf5, "CMC", { read: CF, write: CF, precise: true });
for (const [op, imm] of [[0xf6, "ib"], [0xf7, "iz"]] as const) {
  group(0, op, ["TEST E,I", "TEST E,I", "NOT E", "NEG E", "MUL E", "IMUL E", "DIV E", "IDIV E"], (k) => ({
    modrm: true, imm: k < 2 ? imm : "none", write: k === 2 ? 0 : ARITH, lock: k === 2 || k === 3, precise: true,
    jit: k === 0 || k === 2 || k === 3 ? "inline" : "step",
  }));
}
one(0xf8, "CLC", { write: CF, precise: true });
one(0xf9, "STC", { write: CF, precise: true });
one(0xfa, "CLI", { write: IF, ends: true });
one(0xfb, "STI", { write: IF, ends: true });
one(0xfc, "CLD", { write: DF, precise: true });
one(0xfd, "STD", { write: DF, precise: true });
group(0, 0xfe, ["INC Eb", "DEC Eb", null, null, null, null, null, null], () => ({
  modrm: true, read: CF, write: ARITH & ~CF, lock: true, jit: "inline", precise: true,
}));
group(0, 0xff, ["INC Ev", "DEC Ev", "CALL Ev", "CALLF Mp", "JMP Ev", "JMPF Mp", "PUSH Ev", null], (k) => ({
  modrm: true,
  read: k < 2 ? CF : 0,
  write: k < 2 ? ARITH & ~CF : k === 3 || k === 5 ? ALL : 0,
  lock: k < 2,
  flow: k === 2 ? "call" : k === 4 ? "jmp" : k === 3 || k === 5 ? "far" : "none",
  jit: k < 2 || k === 2 || k === 4 || k === 6 ? "inline" : "step",
  ends: k >= 2 && k !== 6,
  precise: true, // CALLF/JMPF save the boundary state themselves before the far transfer
  ...(k === 2 || k === 4 ? { x64: "f64" as const } : k === 6 ? { x64: "d64" as const } : {}),
}));

// ---- two-byte map 0F xx (Table A-3) ----------------------------------------------------------
group(0x0f, 0x00, ["SLDT Ew", "STR Ew", "LLDT Ew", "LTR Ew", "VERR Ew", "VERW Ew", null, null], (k) => ({
  modrm: true, write: k >= 4 ? ZF : 0, ends: true,
}));
group(0x0f, 0x01, ["SGDT Ms", "SIDT Ms", "LGDT Ms", "LIDT Ms", "SMSW Ew", null, "LMSW Ew", "INVLPG M"], () => ({ modrm: true, ends: true }));
two(0x02, "LAR Gv,Ew", { modrm: true, write: ZF, ends: true });
two(0x03, "LSL Gv,Ew", { modrm: true, write: ZF, ends: true });
two(0x04, "(none)", { modrm: true, impl: false, ends: true });
two(0x05, "(SYSCALL, 64-bit)", { impl: false, ends: true });
two(0x06, "CLTS", { ends: true });
two(0x07, "(SYSRET, 64-bit)", { impl: false, ends: true });
two(0x08, "INVD", { ends: true });
two(0x09, "WBINVD", { ends: true });
two(0x0a, "(none)", { modrm: true, impl: false, ends: true });
two(0x0b, "UD2", { ends: true, precise: true });
two(0x0c, "(none)", { modrm: true, impl: false, ends: true });
two(0x0d, "NOP Ev (prefetch)", { modrm: true, ends: true });
two(0x0e, "(FEMMS)", { impl: false, ends: true });
two(0x0f, "(3DNow!)", { modrm: true, impl: false, ends: true }); // followed by an ib suffix on AMD
range(0x10, 0x17, (op) => two(op, "(SSE)", { modrm: true, impl: false, ends: true }));
range(0x18, 0x1e, (op) => two(op, "NOP Ev (hint)", { modrm: true, ends: true }));
two(0x1f, "NOP Ev", { modrm: true, precise: true });
two(0x20, "MOV Rd,Cd", { modrm: true, ends: true });
two(0x21, "MOV Rd,Dd", { modrm: true, ends: true });
two(0x22, "MOV Cd,Rd", { modrm: true, ends: true });
two(0x23, "MOV Dd,Rd", { modrm: true, ends: true });
range(0x24, 0x2f, (op) => two(op, "(SSE)", { modrm: true, impl: false, ends: true }));
two(0x30, "WRMSR", { ends: true });
two(0x31, "RDTSC", { precise: true });
two(0x32, "RDMSR", { ends: true });
two(0x33, "RDPMC", { ends: true });
two(0x34, "SYSENTER", { flow: "sys", write: IF, ends: true });
two(0x35, "SYSEXIT", { flow: "sys", ends: true });
two(0x36, "(none)", { modrm: true, impl: false, ends: true });
two(0x37, "(GETSEC)", { impl: false, ends: true });
range(0x38, 0x3f, (op) => two(op, "(three-byte escapes)", { modrm: true, impl: false, ends: true }));
range(0x40, 0x4f, (op) => two(op, `CMOV${CC[op & 15]} Gv,Ev`, { modrm: true, read: CC_READ[op & 15], jit: "inline", precise: true }));
range(0x50, 0x6f, (op) => two(op, "(MMX/SSE)", { modrm: true, impl: false, ends: true }));
range(0x70, 0x73, (op) => two(op, "(MMX/SSE, Ib)", { modrm: true, imm: "ib", impl: false, ends: true }));
range(0x74, 0x76, (op) => two(op, "(MMX)", { modrm: true, impl: false, ends: true }));
two(0x77, "(EMMS)", { impl: false, ends: true });
range(0x78, 0x7f, (op) => two(op, "(MMX/SSE)", { modrm: true, impl: false, ends: true }));
range(0x80, 0x8f, (op) => two(op, `J${CC[op & 15]} Jz`, { imm: "iz", read: CC_READ[op & 15], flow: "jcc", jit: "inline", ends: true, precise: true, x64: "f64" }));
range(0x90, 0x9f, (op) => two(op, `SET${CC[op & 15]} Eb`, { modrm: true, read: CC_READ[op & 15], jit: "inline", precise: true }));
two(0xa0, "PUSH FS", { x64: "d64" });
two(0xa1, "POP FS", { ends: true, x64: "d64" });
two(0xa2, "CPUID", { precise: true });
two(0xa3, "BT Ev,Gv", { modrm: true, write: CF, precise: true });
two(0xa4, "SHLD Ev,Gv,Ib", { modrm: true, imm: "ib", write: ARITH, precise: true });
two(0xa5, "SHLD Ev,Gv,CL", { modrm: true, write: ARITH, precise: true });
two(0xa6, "(none)", { modrm: true, impl: false, ends: true });
two(0xa7, "(none)", { modrm: true, impl: false, ends: true });
two(0xa8, "PUSH GS", { x64: "d64" });
two(0xa9, "POP GS", { ends: true, x64: "d64" });
two(0xaa, "(RSM)", { impl: false, ends: true });
two(0xab, "BTS Ev,Gv", { modrm: true, write: CF, lock: true, precise: true });
two(0xac, "SHRD Ev,Gv,Ib", { modrm: true, imm: "ib", write: ARITH, precise: true });
two(0xad, "SHRD Ev,Gv,CL", { modrm: true, write: ARITH, precise: true });
two(0xae, "(FXSAVE group)", { modrm: true, impl: false, ends: true });
two(0xaf, "IMUL Gv,Ev", { modrm: true, write: ARITH, jit: "inline", precise: true });
two(0xb0, "CMPXCHG Eb,Gb", { modrm: true, write: ARITH, lock: true, precise: true });
two(0xb1, "CMPXCHG Ev,Gv", { modrm: true, write: ARITH, lock: true, precise: true });
two(0xb2, "LSS Gv,Mp", { modrm: true, ends: true });
two(0xb3, "BTR Ev,Gv", { modrm: true, write: CF, lock: true, precise: true });
two(0xb4, "LFS Gv,Mp", { modrm: true, ends: true });
two(0xb5, "LGS Gv,Mp", { modrm: true, ends: true });
two(0xb6, "MOVZX Gv,Eb", { modrm: true, jit: "inline", precise: true });
two(0xb7, "MOVZX Gv,Ew", { modrm: true, jit: "inline", precise: true });
two(0xb8, "(POPCNT/JMPE)", { modrm: true, impl: false, ends: true });
two(0xb9, "UD1 Gv,Ev", { modrm: true, ends: true, precise: true });
group(0x0f, 0xba, [null, null, null, null, "BT Ev,Ib", "BTS Ev,Ib", "BTR Ev,Ib", "BTC Ev,Ib"], (k) => ({
  modrm: true, imm: "ib", write: CF, lock: k >= 5, precise: true,
}));
two(0xbb, "BTC Ev,Gv", { modrm: true, write: CF, lock: true, precise: true });
two(0xbc, "BSF Gv,Ev", { modrm: true, write: ARITH, precise: true });
two(0xbd, "BSR Gv,Ev", { modrm: true, write: ARITH, precise: true });
two(0xbe, "MOVSX Gv,Eb", { modrm: true, jit: "inline", precise: true });
two(0xbf, "MOVSX Gv,Ew", { modrm: true, jit: "inline", precise: true });
two(0xc0, "XADD Eb,Gb", { modrm: true, write: ARITH, lock: true, precise: true });
two(0xc1, "XADD Ev,Gv", { modrm: true, write: ARITH, lock: true, precise: true });
two(0xc2, "(SSE, Ib)", { modrm: true, imm: "ib", impl: false, ends: true });
two(0xc3, "(MOVNTI)", { modrm: true, impl: false, ends: true });
range(0xc4, 0xc6, (op) => two(op, "(MMX/SSE, Ib)", { modrm: true, imm: "ib", impl: false, ends: true }));
group(0x0f, 0xc7, [null, "CMPXCHG8B Mq", null, null, null, null, null, null], (k) => ({
  modrm: true, write: k === 1 ? ZF : 0, lock: k === 1, precise: true,
}));
range(0xc8, 0xcf, (op) => two(op, "BSWAP Zv", { jit: "inline", precise: true }));
range(0xd0, 0xfe, (op) => two(op, "(MMX/SSE)", { modrm: true, impl: false, ends: true }));
two(0xff, "UD0 Gv,Ev", { modrm: true, ends: true, precise: true });

// Flags the SDM leaves undefined ("Flags Affected" of each instruction): [map, op, regs (null:
// every row of the opcode), flags]. Real CPUs still produce values there, which differ by vendor.
const LOGIC = [0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x84, 0x85, 0xa8, 0xa9];
const UNDEFINED_FLAGS: [0 | 0x0f, number, number[] | null, number][] = [
  ...LOGIC.map((op) => [0, op, null, AF] as [0, number, null, number]), // OR AND XOR TEST
  ...[0x80, 0x81, 0x82, 0x83].map((op) => [0, op, [1, 4, 6], AF] as [0, number, number[], number]),
  [0, 0xf6, [0, 1], AF], [0, 0xf7, [0, 1], AF],
  ...[0xc0, 0xc1, 0xd2, 0xd3].flatMap((op) => [[0, op, [0, 1, 2, 3], OF], [0, op, [4, 5, 6], OF | AF | CF], [0, op, [7], OF | AF]] as [0, number, number[], number][]),
  [0, 0xd0, [4, 5, 6, 7], AF], [0, 0xd1, [4, 5, 6, 7], AF], // by 1: only AF
  [0, 0xf6, [4, 5], SF | ZF | AF | PF], [0, 0xf7, [4, 5], SF | ZF | AF | PF], // MUL IMUL
  [0, 0xf6, [6, 7], ARITH], [0, 0xf7, [6, 7], ARITH], // DIV IDIV
  [0, 0x69, null, SF | ZF | AF | PF], [0, 0x6b, null, SF | ZF | AF | PF], [0x0f, 0xaf, null, SF | ZF | AF | PF],
  [0, 0x27, null, OF], [0, 0x2f, null, OF], [0, 0x37, null, OF | SF | ZF | PF], [0, 0x3f, null, OF | SF | ZF | PF],
  [0, 0xd4, null, OF | AF | CF], [0, 0xd5, null, OF | AF | CF], // AAM AAD
  ...[0xa3, 0xab, 0xb3, 0xbb, 0xba].map((op) => [0x0f, op, null, OF | SF | AF | PF] as [0x0f, number, null, number]), // BT*
  ...[0xa4, 0xa5, 0xac, 0xad].map((op) => [0x0f, op, null, OF | AF] as [0x0f, number, null, number]), // SHLD SHRD (16-bit count > 16: CF and the result too)
  [0x0f, 0xbc, null, CF | OF | SF | AF | PF], [0x0f, 0xbd, null, CF | OF | SF | AF | PF], // BSF BSR
];
// Each entry goes to its opcode's rows, found by key: a scan of every row for every entry cost
// each process that loads the table a few ms at start (the CLI's and the VM worker's).
const rowsOf = new Map<number, OpcodeDef[]>();
for (const r of rows) {
  const key = (r.map << 8) | r.op;
  const list = rowsOf.get(key);
  if (list) list.push(r);
  else rowsOf.set(key, [r]);
}
for (const [map, op, regs, f] of UNDEFINED_FLAGS) {
  for (const r of rowsOf.get((map << 8) | op) ?? []) if (regs === null || regs.includes(r.reg!)) r.undef = f;
}

export const OPCODES: readonly OpcodeDef[] = rows;

/** Legacy prefixes (SDM Vol. 2 §2.1.1); in 64-bit mode a REX byte (40-4F) follows them. */
export type PrefixKind = "seg" | "opsize" | "addrsize" | "lock" | "rep";
export const PREFIXES: readonly { byte: number; kind: PrefixKind; seg?: number; name: string }[] = [
  { byte: 0x26, kind: "seg", seg: 0, name: "ES" },
  { byte: 0x2e, kind: "seg", seg: 1, name: "CS" },
  { byte: 0x36, kind: "seg", seg: 2, name: "SS" },
  { byte: 0x3e, kind: "seg", seg: 3, name: "DS" },
  { byte: 0x64, kind: "seg", seg: 4, name: "FS" },
  { byte: 0x65, kind: "seg", seg: 5, name: "GS" },
  { byte: 0x66, kind: "opsize", name: "operand size" },
  { byte: 0x67, kind: "addrsize", name: "address size" },
  { byte: 0xf0, kind: "lock", name: "LOCK" },
  { byte: 0xf2, kind: "rep", name: "REPNE" },
  { byte: 0xf3, kind: "rep", name: "REP/REPE" },
];
/** The 0F escape to the two-byte map. */
export const ESCAPE_0F = 0x0f;
