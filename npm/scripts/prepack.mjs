// Before `npm pack` / `npm publish`: copy the generated code (gen/ts, made by
// `make gen` from proto/) and the licence into this package. dist/ is a build
// output, never committed; gen/ts stays the one generated tree of the repository.
import { cpSync, copyFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(here, "..");
rmSync(join(here, "dist"), { recursive: true, force: true });
cpSync(join(root, "gen", "ts"), join(here, "dist"), { recursive: true });
copyFileSync(join(root, "LICENSE"), join(here, "LICENSE"));
