// The LZMA decoder that LZMA2 chunks drive (the LZMA specification of the LZMA SDK; Linux's
// lib/xz decodes the same). A binary range decoder reads bits against adaptive probabilities
// (11-bit, moved 1/32 of the way after each bit); the bits spell a stream of packets: a literal
// byte (coded against the previous byte and, right after a match, the byte at the last distance),
// a match (length, then a distance slot and its extra bits), or a repeat of one of the last four
// distances. Which probabilities a packet uses depends on a 12-state history of recent packet
// kinds and the low bits of the output position.
//
// The dictionary is the output itself: the whole output stays in memory, so a match copies from
// earlier output without a ring buffer. Every chunk is decoded in one call with its sizes known,
// so the loops are bounded by the chunk's output and the input check is one compare per packet.

export class LzmaError extends Error {}

const STATES = 12;
/** States below this one follow a literal: the next literal is coded without a match byte. */
const LIT_STATES = 7;
const POS_STATES_MAX = 1 << 4; // pb ≤ 4
const LEN_LOW = 8; // lengths 2..9, a 3-bit tree per position state
const LEN_MID = 8; // 10..17
const LEN_HIGH = 256; // 18..273, one 8-bit tree
const MATCH_LEN_MIN = 2;
const DIST_STATES = 4; // the distance slot's tree depends on min(len - 2, 3)
const DIST_SLOT_BITS = 6;
/** Slots from here on add extra bits; up to DIST_MODEL_END with their own reverse trees. */
const DIST_MODEL_START = 4;
const DIST_MODEL_END = 14;
const FULL_DISTANCES = 128; // distances below this never use direct bits
const ALIGN_BITS = 4;
const LITERAL_CODER = 0x300; // 256 plain + 2 × 256 matched-literal probabilities
const LITERAL_CODERS_MAX = 1 << 4; // lc + lp ≤ 4 in LZMA2

/** Probabilities of one length coder: two choice bits, then the low, mid and high trees. */
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW_AT = 2;
const LEN_MID_AT = LEN_LOW_AT + POS_STATES_MAX * LEN_LOW;
const LEN_HIGH_AT = LEN_MID_AT + POS_STATES_MAX * LEN_MID;
const LEN_PROBS = LEN_HIGH_AT + LEN_HIGH;

/** Every probability the decoder keeps, in one array: each group's size, its offset derived. */
const GROUPS = {
  isMatch: STATES * POS_STATES_MAX,
  isRep: STATES,
  isRep0: STATES,
  isRep1: STATES,
  isRep2: STATES,
  isRep0Long: STATES * POS_STATES_MAX,
  distSlot: DIST_STATES << DIST_SLOT_BITS,
  distSpecial: FULL_DISTANCES - DIST_MODEL_END,
  distAlign: 1 << ALIGN_BITS,
  matchLen: LEN_PROBS,
  repLen: LEN_PROBS,
  literal: LITERAL_CODER * LITERAL_CODERS_MAX,
};
const AT = {} as Record<keyof typeof GROUPS, number>;
let PROBS_TOTAL = 0;
for (const [name, size] of Object.entries(GROUPS)) {
  AT[name as keyof typeof GROUPS] = PROBS_TOTAL;
  PROBS_TOTAL += size;
}
const IS_MATCH = AT.isMatch;
const IS_REP = AT.isRep;
const IS_REP0 = AT.isRep0;
const IS_REP1 = AT.isRep1;
const IS_REP2 = AT.isRep2;
const IS_REP0_LONG = AT.isRep0Long;
const DIST_SLOT = AT.distSlot;
const DIST_SPECIAL = AT.distSpecial;
const DIST_ALIGN = AT.distAlign;
const MATCH_LEN = AT.matchLen;
const REP_LEN = AT.repLen;
const LITERAL = AT.literal;

const PROB_INIT = 1 << 10; // one half, of 1 << 11
/** Flipping the sign bit makes a signed compare of int32s an unsigned one. */
const SIGN = -0x80000000;

/** A properties byte: (pb × 5 + lp) × 9 + lc. */
export function lzmaProperties(byte: number): { lc: number; lp: number; pb: number } {
  if (byte >= 9 * 5 * 5) throw new LzmaError(`invalid LZMA properties byte 0x${byte.toString(16)}`);
  const lc = byte % 9;
  const lp = Math.floor(byte / 9) % 5;
  const pb = Math.floor(byte / 45);
  if (lc + lp > 4) throw new LzmaError(`LZMA properties lc=${lc} lp=${lp}: LZMA2 allows lc + lp ≤ 4`);
  return { lc, lp, pb };
}

export class LzmaDecoder {
  private readonly probs = new Uint16Array(PROBS_TOTAL);
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  private lc = 0;
  private lpMask = 0;
  private pbMask = 0;
  /** Whether properties have been set since the decoder was made. */
  private ready = false;

  /** New lc/lp/pb (a properties byte), which also resets the state. */
  setProperties(byte: number): void {
    const { lc, lp, pb } = lzmaProperties(byte);
    this.lc = lc;
    this.lpMask = (1 << lp) - 1;
    this.pbMask = (1 << pb) - 1;
    this.ready = true;
    this.resetState();
  }

  /** Probabilities back to one half, the history and the distances to zero. */
  resetState(): void {
    this.probs.fill(PROB_INIT);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  /**
   * Decode one LZMA2 chunk: exactly the input[inStart, inEnd) range-coded bytes into exactly
   * out[outStart, outEnd). The dictionary began at `dictStart` (positions and the first
   * literal's context count from there); a distance must stay inside it and below `dictSize`.
   *
   * The range decoder lives in local variables and each bit is decoded in place (the same three
   * lines at every site): as methods on fields the decoder took 1.6 times as long.
   */
  decodeChunk(input: Uint8Array, inStart: number, inEnd: number, out: Uint8Array, outStart: number, outEnd: number, dictStart: number, dictSize: number): void {
    if (!this.ready) throw new LzmaError("LZMA chunk before any properties");
    if (inEnd - inStart < 5) throw new LzmaError("LZMA chunk too short for the range decoder's first five bytes");
    // The encoder's first byte is always zero (its carry cache starts empty).
    if (input[inStart] !== 0) throw new LzmaError("LZMA chunk does not start with a zero byte");
    const probs = this.probs;
    const lc = this.lc;
    const lpMask = this.lpMask;
    const pbMask = this.pbMask;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    // The range decoder: `code` is where the encoder's number lies within [0, range). Both are
    // 32-bit unsigned, held as int32 bit patterns (compared with the sign bit flipped) so the
    // arithmetic stays in integer registers.
    let range = -1;
    let code = (input[inStart + 1]! << 24) | (input[inStart + 2]! << 16) | (input[inStart + 3]! << 8) | input[inStart + 4]!;
    let at = inStart + 5;
    // One bit against probs[p] (11 bits, moved 1/32 of the way toward the bit seen): after
    // normalizing (range ≥ 2^24, taking a byte when below; past the array reads as 0, which
    // the per-packet check catches), the bit is 0 when code < bound = range / 2^11 × prob.
    let p = 0;
    let prob = 0;
    let bound = 0;
    let bit = 0;
    let o = outStart;
    while (o < outEnd) {
      // A packet reads at most a few dozen bytes: checking once per packet keeps a damaged chunk
      // from reading far past its end; the exact count is checked at the end.
      if (at > inEnd) throw new LzmaError("LZMA chunk needs more input than its size says");
      const pos = o - dictStart;
      const posState = pos & pbMask;

      p = IS_MATCH + state * POS_STATES_MAX + posState;
      if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
      prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
      if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
      if (bit === 0) {
        const prev = pos > 0 ? out[o - 1]! : 0;
        const coder = LITERAL + LITERAL_CODER * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let symbol = 1;
        if (state < LIT_STATES) {
          do {
            p = coder + symbol;
            if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
            prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
            if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); symbol <<= 1; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); symbol = (symbol << 1) | 1; }
          } while (symbol < 0x100);
        } else {
          // After a match, the byte at the last distance predicts this one bit by bit, until
          // the first bit that differs; from there on the plain probabilities are used.
          let match = out[o - rep0 - 1]!;
          let offset = 0x100;
          do {
            match <<= 1;
            const matchBit = match & offset;
            p = coder + offset + matchBit + symbol;
            if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
            prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
            if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); symbol <<= 1; offset &= ~matchBit; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); symbol = (symbol << 1) | 1; offset &= matchBit; }
          } while (symbol < 0x100);
        }
        out[o++] = symbol;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }

      // A match or a repeat: which kind, and with which length coder (none for a short repeat).
      let lenCoder = REP_LEN;
      let fresh = false;
      p = IS_REP + state;
      if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
      prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
      if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
      if (bit === 0) {
        // A new distance, decoded after the length; the oldest of the four is dropped.
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        lenCoder = MATCH_LEN;
        fresh = true;
        state = state < LIT_STATES ? 7 : 10;
      } else {
        p = IS_REP0 + state;
        if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
        prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
        if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
        if (bit === 0) {
          p = IS_REP0_LONG + state * POS_STATES_MAX + posState;
          if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
          prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
          if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
          if (bit === 0) lenCoder = -1; // one byte from the last distance
        } else {
          p = IS_REP1 + state;
          if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
          prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
          if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
          let dist: number;
          if (bit === 0) dist = rep1;
          else {
            p = IS_REP2 + state;
            if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
            prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
            if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
            if (bit === 0) dist = rep2;
            else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        state = state < LIT_STATES ? (lenCoder < 0 ? 9 : 8) : 11;
      }

      let len = 1;
      if (lenCoder >= 0) {
        // Two choice bits pick the low (2..9), mid (10..17) or high (18..273) tree.
        let tree = lenCoder + LEN_LOW_AT + posState * LEN_LOW;
        let bits = 3;
        len = MATCH_LEN_MIN;
        p = lenCoder + LEN_CHOICE;
        if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
        prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
        if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
        if (bit === 1) {
          p = lenCoder + LEN_CHOICE2;
          if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
          prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
          if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); bit = 0; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); bit = 1; }
          if (bit === 0) {
            tree = lenCoder + LEN_MID_AT + posState * LEN_MID;
            len += LEN_LOW;
          } else {
            tree = lenCoder + LEN_HIGH_AT;
            bits = 8;
            len += LEN_LOW + LEN_MID;
          }
        }
        let symbol = 1;
        for (let n = 0; n < bits; n++) {
          p = tree + symbol;
          if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
          prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
          if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); symbol <<= 1; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); symbol = (symbol << 1) | 1; }
        }
        len += symbol - (1 << bits);
      }

      if (fresh) {
        // The distance: a 6-bit slot (its tree chosen by min(len - 2, 3)) gives the top two bits
        // and how many follow; those come from a reverse tree of the slot's own (slots 4-13), or
        // as direct bits then four reverse-tree "align" bits.
        const slots = DIST_SLOT + (Math.min(len - MATCH_LEN_MIN, DIST_STATES - 1) << DIST_SLOT_BITS);
        let slot = 1;
        do {
          p = slots + slot;
          if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
          prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
          if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); slot <<= 1; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); slot = (slot << 1) | 1; }
        } while (slot < 1 << DIST_SLOT_BITS);
        slot -= 1 << DIST_SLOT_BITS;
        if (slot < DIST_MODEL_START) rep0 = slot;
        else {
          const extra = (slot >>> 1) - 1;
          // Up to 2^32 - 1 (the end-of-stream marker): kept as a non-negative number, not int32.
          rep0 = ((2 | (slot & 1)) << extra) >>> 0;
          let tree = DIST_SPECIAL + rep0 - slot - 1;
          let bits = extra;
          if (slot >= DIST_MODEL_END) {
            let direct = 0;
            for (let n = extra - ALIGN_BITS; n > 0; n--) {
              if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
              range >>>= 1;
              if ((code ^ SIGN) >= (range ^ SIGN)) { code = (code - range) | 0; direct = (direct << 1) | 1; } else direct <<= 1;
            }
            rep0 += direct * (1 << ALIGN_BITS);
            tree = DIST_ALIGN;
            bits = ALIGN_BITS;
          }
          let symbol = 1;
          for (let n = 0; n < bits; n++) {
            p = tree + symbol;
            if (range >>> 24 === 0) { range <<= 8; code = (code << 8) | input[at++]!; }
            prob = probs[p]!; bound = Math.imul(range >>> 11, prob);
            if ((code ^ SIGN) < (bound ^ SIGN)) { range = bound; probs[p] = prob + ((2048 - prob) >>> 5); symbol <<= 1; } else { range = (range - bound) | 0; code = (code - bound) | 0; probs[p] = prob - (prob >>> 5); symbol = (symbol << 1) | 1; rep0 += 1 << n; }
          }
          if (rep0 === 0xffffffff) throw new LzmaError("end-of-stream marker inside an LZMA2 chunk");
        }
      }

      if (rep0 >= pos || rep0 >= dictSize) throw new LzmaError(`match distance ${rep0 + 1} reaches before the start of the dictionary`);
      if (len > outEnd - o) throw new LzmaError("match runs past the end of its chunk");
      let from = o - rep0 - 1;
      if (rep0 >= len && len >= 32) {
        out.copyWithin(o, from, from + len);
        o += len;
      } else {
        // Short, or overlapping its own output (a run when the distance is 1): byte by byte.
        for (const stop = o + len; o < stop; ) out[o++] = out[from++]!;
      }
    }
    finishChunk(input, inStart, inEnd, at, range, code);
    this.state = state;
    this.rep0 = rep0;
    this.rep1 = rep1;
    this.rep2 = rep2;
    this.rep3 = rep3;
  }
}

/**
 * The encoder flushes so that the decoder, normalized once more, has read exactly the chunk and
 * its code is zero: anything else means the chunk is damaged. (Its own function: code that runs
 * once per chunk, inlined in the hot loop, cost a deoptimization at every chunk end.)
 */
function finishChunk(input: Uint8Array, inStart: number, inEnd: number, at: number, range: number, code: number): void {
  if (range >>> 24 === 0) code = (code << 8) | (input[at++]! | 0);
  if (at !== inEnd) throw new LzmaError(`LZMA chunk used ${at - inStart} bytes, its size says ${inEnd - inStart}`);
  if (code !== 0) throw new LzmaError("LZMA chunk does not end cleanly (range decoder not finished)");
}
