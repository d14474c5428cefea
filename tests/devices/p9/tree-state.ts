// A host directory tree as one comparable string, to prove that nothing in it changed.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** Names, kinds, modes, owners, link counts, mtimes and contents of everything under `dir`, except the entries named `skip` directly in it. */
export function treeState(dir: string, skip: string[] = []): string {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      if (rel === "" && skip.includes(name)) continue;
      const p = join(d, name), st = lstatSync(p);
      const what = st.isDirectory() ? "dir" : st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : readFileSync(p, "latin1");
      out.push(`${rel}${name} ${st.mode.toString(8)} ${st.uid}:${st.gid} n${st.nlink} m${st.mtimeMs} ${what}`);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
    }
  };
  walk(dir, "");
  return out.join("\n");
}
