// A folder to serve, made fresh in a temp directory, with a secret file beside it (outside
// the root) that no request may ever read, and the awkward entries a static server meets:
// dotfiles, symlinks in and out, a directory without index, precompressed siblings, a FIFO.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";

export interface StaticFixture {
  /** The temp directory holding everything. */
  base: string;
  /** The folder to serve (base/public). */
  root: string;
  /** A unique string only the files outside the root contain. */
  secret: string;
  hello: string;
  css: string;
  /** 4 MiB of random bytes (public/big.bin). */
  big: Buffer;
  /** Whether public/fifo is a FIFO (mkfifo was available). */
  hasFifo: boolean;
  remove(): void;
}

export function makeStaticFixture(bigBytes = 4 * 1024 * 1024): StaticFixture {
  const base = mkdtempSync(path.join(tmpdir(), "tophat-static-"));
  const root = path.join(base, "public");
  const secret = `TOPSECRET-${randomBytes(8).toString("hex")}`;
  const hello = "hello, static world\n";
  const css = `body { color: rebeccapurple; }\n${"/* padding so compression pays */\n".repeat(20)}`;
  const big = randomBytes(bigBytes);

  writeFileSync(path.join(base, "secret.txt"), `${secret}\n`);
  // A sibling folder whose name starts with the root's: a naive prefix check would let it in.
  mkdirSync(path.join(base, "public-evil"));
  writeFileSync(path.join(base, "public-evil", "secret.txt"), `${secret} (sibling)\n`);
  mkdirSync(root);
  writeFileSync(path.join(root, "hello.txt"), hello);
  writeFileSync(path.join(root, "index.html"), "<!doctype html><title>root index</title>\n");
  writeFileSync(path.join(root, "style.css"), css);
  writeFileSync(path.join(root, "style.css.gz"), gzipSync(css));
  writeFileSync(path.join(root, "style.css.br"), brotliCompressSync(css));
  writeFileSync(path.join(root, "big.bin"), big);
  writeFileSync(path.join(root, "empty.txt"), "");
  writeFileSync(path.join(root, "data.json"), '{"ok":true}\n');
  writeFileSync(path.join(root, "no-extension"), "what am I\n");
  writeFileSync(path.join(root, ".env"), `SECRET=${secret}\n`);
  mkdirSync(path.join(root, ".hidden"));
  writeFileSync(path.join(root, ".hidden", "inner.txt"), `${secret} (dot dir)\n`);
  mkdirSync(path.join(root, "sub"));
  writeFileSync(path.join(root, "sub", "index.html"), "<!doctype html><title>sub index</title>\n");
  writeFileSync(path.join(root, "sub", "page.txt"), "a page in sub\n");
  mkdirSync(path.join(root, "no-index"));
  writeFileSync(path.join(root, "no-index", "a.txt"), "a\n");
  symlinkSync(path.join(base, "secret.txt"), path.join(root, "link-out"));
  symlinkSync("../secret.txt", path.join(root, "link-out-relative.txt"));
  symlinkSync(base, path.join(root, "dirlink-out"));
  symlinkSync(path.join(base, "public-evil"), path.join(root, "link-sibling"));
  symlinkSync("hello.txt", path.join(root, "link-in.txt"));
  symlinkSync(".env", path.join(root, "link-to-dotfile.txt"));
  // A literal file named "%2e%2e": double-decoding would turn its URL into "..".
  writeFileSync(path.join(root, "%2e%2e"), "literally percent-2e-percent-2e\n");
  const hasFifo = spawnSync("mkfifo", [path.join(root, "fifo")]).status === 0;
  return { base, root, secret, hello, css, big, hasFifo, remove: () => rmSync(base, { recursive: true, force: true }) };
}
