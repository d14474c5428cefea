// The CLI's exit codes, one per outcome, declared once: boot.ts exits with them, --help and the
// README list them (a test checks --help against this table).

export const EXIT = {
  ok: { code: 0, text: "success: the guest powered off, --expect's text appeared, the --cmd script ran (and --save-state saved it), or Ctrl-A x quit" },
  internal: { code: 1, text: "internal error (the emulator failed)" },
  usage: { code: 2, text: "bad option, or a kernel/initrd refused before the guest ran (damaged, too big)" },
  timeout: { code: 3, text: "timeout (--timeout, or the default for --cmd/--expect runs)" },
  panic: { code: 4, text: "the guest kernel panicked (pvpanic, or its 'Kernel panic - not syncing' line)" },
  reboot: { code: 5, text: "the guest rebooted with --no-reboot in effect" },
  state: { code: 6, text: "--restore refused the state file (missing, truncated, damaged, from another build, or another disk; an increment without the state it was saved after); nothing ran" },
} as const satisfies Record<string, { code: number; text: string }>;

export type Outcome = keyof typeof EXIT;

/** The table as --help prints it. */
export function exitCodeHelp(indent: string): string {
  return Object.values(EXIT).map((e) => `${indent}${e.code}  ${e.text}`).join("\n");
}
