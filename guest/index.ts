// The core module's exports, in the canonical ABI of the WIT world `tophat:http/core`
// (wit/tophat.wit): flattened parameters in, a pointer to the return area out, and a
// post-return function per export that frees what the call allocated.
// `@exportAs` gives each function its component name (see build/export-names.js).
import { parseHead } from "./head";
import { decodeChunked } from "./chunked";
import { frameHead, chunkSizeLine, lastChunk } from "./framer";
import { realloc, reset } from "./arena";

// @ts-ignore: decorator
@exportAs("tophat:http/parser@0.2.0#parse-head")
export function parse_head(ptr: u32, len: u32, maxHead: u32, maxHeaders: u32, maxTarget: u32, maxExt: u32): u32 {
  // Test builds only (asc --use TOPHAT_TEST_TRAP=1): a request with the method TRAP makes
  // the core trap, so the host's recovery can be tested. Release builds hold no such code.
  if (isDefined(TOPHAT_TEST_TRAP)) {
    if (len >= 5 && load<u32>(ptr) == 0x50415254 && load<u8>(ptr + 4) == 0x20) unreachable();
  }
  return <u32>parseHead(ptr, len, maxHead, maxHeaders, maxTarget);
}

// @ts-ignore: decorator
@exportAs("cabi_post_tophat:http/parser@0.2.0#parse-head")
export function post_parse_head(_ret: u32): void {
  reset();
}

// @ts-ignore: decorator
@exportAs("tophat:http/chunked@0.2.0#decode")
export function decode(
  ptr: u32, len: u32,
  phase: u32, remaining: u64, trailerBytes: u32, trailerCount: u32,
  maxHead: u32, maxHeaders: u32, maxTarget: u32, maxExt: u32,
): u32 {
  return <u32>decodeChunked(ptr, len, phase, remaining, trailerBytes, trailerCount, maxHead, maxHeaders, maxExt);
}

// @ts-ignore: decorator
@exportAs("cabi_post_tophat:http/chunked@0.2.0#decode")
export function post_decode(_ret: u32): void {
  reset();
}

// @ts-ignore: decorator
@exportAs("tophat:http/framer@0.2.0#frame-head")
export function frame_head(
  status: u32, hasReason: u32, reasonPtr: u32, reasonLen: u32,
  fieldsPtr: u32, fieldsLen: u32, hasLength: u32, bodyLength: u64,
  isHead: u32, http10: u32, close: u32, connect: u32,
  hasDate: u32, datePtr: u32, dateLen: u32,
): u32 {
  return <u32>frameHead(
    status, hasReason != 0, reasonPtr, reasonLen, fieldsPtr, fieldsLen, hasLength != 0, bodyLength,
    isHead != 0, http10 != 0, close != 0, connect != 0, hasDate != 0, datePtr, dateLen,
  );
}

// @ts-ignore: decorator
@exportAs("cabi_post_tophat:http/framer@0.2.0#frame-head")
export function post_frame_head(_ret: u32): void {
  reset();
}

// @ts-ignore: decorator
@exportAs("tophat:http/framer@0.2.0#chunk-size-line")
export function chunk_size_line(size: u64): u32 {
  return <u32>chunkSizeLine(size);
}

// @ts-ignore: decorator
@exportAs("cabi_post_tophat:http/framer@0.2.0#chunk-size-line")
export function post_chunk_size_line(_ret: u32): void {
  reset();
}

// @ts-ignore: decorator
@exportAs("tophat:http/framer@0.2.0#last-chunk")
export function last_chunk(ptr: u32, len: u32): u32 {
  return <u32>lastChunk(ptr, len);
}

// @ts-ignore: decorator
@exportAs("cabi_post_tophat:http/framer@0.2.0#last-chunk")
export function post_last_chunk(_ret: u32): void {
  reset();
}

// @ts-ignore: decorator
@exportAs("cabi_realloc")
export function cabi_realloc(oldPtr: u32, oldSize: u32, align: u32, newSize: u32): u32 {
  return <u32>realloc(oldPtr, oldSize, align, newSize);
}
