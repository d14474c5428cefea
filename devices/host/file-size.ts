// The size of a regular file, for the small static servers (the dev server's guest images,
// the Playwright fixture's page server): undefined for anything else or a name that is not there.
import { statSync } from "node:fs";

export function fileSize(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}
