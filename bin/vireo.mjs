#!/usr/bin/env node
// The package's command: `npx vireo boot [options]` runs the headless CLI (the same options as
// `npm run boot --` in the repository; `npx vireo boot --help` lists them).
const [command, ...rest] = process.argv.slice(2);
if (command === "boot") {
  process.argv.splice(2, 1); // the CLI reads its options from argv[2] on
  await import("../dist-node/boot.mjs");
} else if (command === "wisp") {
  process.argv.splice(2, 1);
  await import("../dist-node/wisp.mjs");
} else {
  const usage = "usage: vireo boot [options]   boot a Linux guest headless (vireo boot --help lists the options)\n"
    + "       vireo wisp [options]   a Wisp relay for a page's guest (vireo wisp --help lists the options)\n";
  const help = command === "help" || command === "--help" || command === "-h";
  process[help ? "stdout" : "stderr"].write(command === undefined || help ? usage : `vireo: unknown command '${command}'\n${usage}`);
  process.exit(help ? 0 : 2);
}
