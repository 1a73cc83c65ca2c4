// The system tools some tests need, and what happens when one is absent.
//
// On a developer's machine (CI unset) a test whose tool is absent is skipped, loudly: a
// warning names the tool and the command that installs it. Under CI=true, where .ci/run
// has installed every tool, an absent tool is a failure: a skip there would hide a broken
// CI setup. The README's "Running the tests" section lists the same tools.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

/** The tools the suite uses, each with how to tell it is there and how to install it. */
export const TOOLS = {
  chromium: {
    what: `Chromium at ${process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"}`,
    install: "apt-get install -y chromium (or set CHROMIUM_PATH to a Chromium binary)",
    present: () => existsSync(process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"),
  },
  postgresql: {
    what: "PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql",
    install: "apt-get install -y postgresql",
    present: () => postgresBinDir() !== undefined,
  },
  wabt: {
    what: "wabt's wasm-validate and wasm2c",
    install: "apt-get install -y wabt",
    present: () => runs("wasm-validate", ["--version"]) && runs("wasm2c", ["--version"]),
  },
  curl: {
    what: "curl",
    install: "apt-get install -y curl",
    present: () => runs("curl", ["--version"]),
  },
  openssl: {
    what: "openssl",
    install: "apt-get install -y openssl",
    present: () => runs("openssl", ["version"]),
  },
  clang: {
    what: "clang with libFuzzer (-fsanitize=fuzzer)",
    install: "apt-get install -y clang libfuzzer-14-dev",
    present: () => runs("clang", ["--version"]) && hasLibFuzzer(),
  },
  "python-wasmtime": {
    what: "the Python wasmtime package (with its component API)",
    install: "python3 -m pip install wasmtime",
    present: () => runs("python3", ["-c", "import wasmtime.component"]),
  },
  pytest: {
    what: "pytest for python3",
    install: "apt-get install -y python3-pytest (or python3 -m pip install pytest)",
    present: () => runs("python3", ["-m", "pytest", "--version"]),
  },
  nginx: {
    what: "nginx at /usr/sbin/nginx",
    install: "apt-get install -y nginx",
    present: () => runs("/usr/sbin/nginx", ["-v"]),
  },
  gcc: {
    what: "gcc",
    install: "apt-get install -y gcc",
    present: () => runs("gcc", ["--version"]),
  },
  make: {
    what: "GNU make",
    install: "apt-get install -y make",
    present: () => runs("make", ["--version"]),
  },
  go: {
    what: "Go with cgo (the go command)",
    install: "apt-get install -y golang-go",
    present: () => runs("go", ["version"]),
  },
} as const;

export type ToolName = keyof typeof TOOLS;

/** True when CI=true: absent tools fail there instead of skipping. */
export const IN_CI = process.env["CI"] === "true";

const known = new Map<ToolName, boolean>();

/**
 * Whether the tests that need `tool` must be skipped: false when it is present. When it is
 * absent, warns loudly (once per test file) and returns true — or, under CI=true, throws,
 * so the test file fails with the tool's name and its install command.
 */
export function skipWithout(tool: ToolName, who: string): boolean {
  let present = known.get(tool);
  if (present === undefined) known.set(tool, (present = TOOLS[tool].present()));
  if (present) return false;
  const { what, install } = TOOLS[tool];
  const message = `${who} needs ${what}, which is not installed: \`${install}\``;
  if (IN_CI) throw new Error(`${message} (CI=true: .ci/run should have installed it)`);
  console.warn(`\n*** SKIPPED (not passed): ${message} ***\n`);
  return true;
}

/** The directory of Debian's PostgreSQL server binaries (newest version), if installed. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return majors.map((m) => `${root}/${m}/bin`).find((dir) => existsSync(`${dir}/initdb`) && existsSync(`${dir}/pg_ctl`));
}

/** Whether clang's runtime directory holds libFuzzer (libclang_rt.fuzzer-<arch>.a). */
function hasLibFuzzer(): boolean {
  const r = spawnSync("clang", ["--print-runtime-dir"], { encoding: "utf8", timeout: 30_000 });
  const dir = r.status === 0 ? r.stdout.trim() : "";
  return dir !== "" && existsSync(dir) && readdirSync(dir).some((f) => f.startsWith("libclang_rt.fuzzer-"));
}

function runs(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: "ignore", timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}
