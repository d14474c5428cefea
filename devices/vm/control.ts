// The host ↔ worker control protocol: one shared Int32Array of CTL_WORDS words. The host writes
// commands, the run state, the terminal size and the balloon target, then kicks (bumps and
// notifies CTL_SEQ); the worker publishes its instruction count. Host-side helpers here; the
// worker reads the words through ControlPort.

/** The host → worker control word (an Int32Array over `VmChannels.control`). */
export const CTL_SEQ = 0; // bumped (and notified) by the host after any input or command
export const CTL_CMD = 1; // a CMD_* the worker takes and clears
// The host terminal's size, cols << 16 | rows (0: not known). The worker applies it to a
// virtio-console whenever it changes; one word so the pair never tears, and no CMD_* so a resize
// cannot overwrite (or be overwritten by) a pending reset.
export const CTL_WINSIZE = 2;
// Host → worker: run state, RUN_GO / RUN_PAUSE / RUN_STEP. A word of its own (not a CMD_*) so a
// pause is never lost to a reset written at the same time; the worker moves STEP to PAUSE when
// the step's event (a virtqueue notify or interrupt) has happened.
export const CTL_RUN = 3;
export const RUN_GO = 0;
export const RUN_PAUSE = 1;
export const RUN_STEP = 2;
/** Worker → host: instructions executed since power-on, a BigInt64 at this byte offset (words 4–5). */
export const CTL_INSTRET_BYTE = 16;
/** Host → worker: the virtio-balloon size asked for, in MiB (applied whenever it changes). */
export const CTL_BALLOON = 6;
export const CTL_WORDS = 7;
export const CMD_NONE = 0;
export const CMD_STOP = 1; // stop now (timeout, window closed): exit with reason "stopped"
export const CMD_RESET = 2; // reset button
// Post an inspector snapshot ({type: "inspect"}). The host writes it only over CMD_NONE
// (requestInspect), so it never replaces a stop or a reset; a STOP/RESET written over it costs
// one snapshot, which the host asks for again.
export const CMD_INSPECT = 3;
// Save the machine and go on running: a "state" event (or "save-failed"). CMD_SAVE is an
// increment over the last state saved or loaded on this board when there is one, else whole;
// CMD_SAVE_WHOLE is always whole. Written over CMD_NONE only (requestSave).
export const CMD_SAVE = 4;
export const CMD_SAVE_WHOLE = 5;
/** Register access logging stays on this long after the last CMD_INSPECT (the inspector closed). */
export const INSPECT_LINGER_MS = 2000;

/** Wake the worker after writing input or a command. */
export function kick(control: Int32Array, cmd = CMD_NONE): void {
  if (cmd !== CMD_NONE) Atomics.store(control, CTL_CMD, cmd);
  Atomics.add(control, CTL_SEQ, 1);
  Atomics.notify(control, CTL_SEQ);
}

/** Host side: ask for a snapshot unless another command is pending (it is asked again later). */
export function requestInspect(control: Int32Array): boolean {
  if (Atomics.compareExchange(control, CTL_CMD, CMD_NONE, CMD_INSPECT) !== CMD_NONE) return false;
  kick(control);
  return true;
}

/** Host side: ask for a save unless another command is pending (false: ask again later). */
export function requestSave(control: Int32Array, whole: boolean): boolean {
  if (Atomics.compareExchange(control, CTL_CMD, CMD_NONE, whole ? CMD_SAVE_WHOLE : CMD_SAVE) !== CMD_NONE) return false;
  kick(control);
  return true;
}

/** Host side: run, pause, or step to the next virtqueue notify/interrupt (RUN_*). */
export function setRunState(control: Int32Array, state: number): void {
  Atomics.store(control, CTL_RUN, state);
  kick(control);
}

/** Host side: publish a terminal size (then kick, so a halted guest sees it now). */
export function setWinsize(control: Int32Array, cols: number, rows: number): void {
  Atomics.store(control, CTL_WINSIZE, ((cols & 0xffff) << 16) | (rows & 0xffff));
}

/** The instruction count the worker last published (the page's status line reads it ~2×/s). */
export function instretSlot(control: SharedArrayBuffer): BigInt64Array {
  return new BigInt64Array(control, CTL_INSTRET_BYTE, 1);
}

/** The worker's side of the control words: what the run loop reads and writes, each in one place. */
export class ControlPort {
  readonly words: Int32Array;
  private readonly instret: BigInt64Array;

  constructor(control: SharedArrayBuffer) {
    this.words = new Int32Array(control);
    this.instret = instretSlot(control);
  }

  /** The wake word: read it before looking for input, so a kick after the look ends a wait. */
  seq(): number { return Atomics.load(this.words, CTL_SEQ); }
  /** The pending CMD_*, taken (cleared). */
  takeCommand(): number { return Atomics.exchange(this.words, CTL_CMD, CMD_NONE); }
  stopAsked(): boolean { return Atomics.load(this.words, CTL_CMD) === CMD_STOP; }
  runState(): number { return Atomics.load(this.words, CTL_RUN); }
  /** A step's event happened: STEP becomes PAUSE, unless the host wrote something else meanwhile. */
  stepDone(): void { Atomics.compareExchange(this.words, CTL_RUN, RUN_STEP, RUN_PAUSE); }
  balloonMiB(): number { return Atomics.load(this.words, CTL_BALLOON); }
  /** cols << 16 | rows, 0 when not known. */
  winsize(): number { return Atomics.load(this.words, CTL_WINSIZE); }
  /** Sleep until the host kicks (the wake word moves off `seq`) or `ms` pass. */
  wait(seq: number, ms: number): void { Atomics.wait(this.words, CTL_SEQ, seq, ms); }
  publishInstret(n: number): void { Atomics.store(this.instret, 0, BigInt(n)); }
}
