// Rejection reasons, numbered as in the WIT enum `reject-reason` (same order), and the
// status code each maps to.

export const BAD_LINE_ENDING: u8 = 0;
export const BAD_METHOD: u8 = 1;
export const BAD_REQUEST_LINE: u8 = 2;
export const BAD_TARGET: u8 = 3;
export const FRAGMENT_IN_TARGET: u8 = 4;
export const TARGET_TOO_LONG: u8 = 5;
export const BAD_VERSION: u8 = 6;
export const UNSUPPORTED_VERSION: u8 = 7;
export const BAD_HEADER_NAME: u8 = 8;
export const SPACE_BEFORE_COLON: u8 = 9;
export const OBS_FOLD: u8 = 10;
export const BAD_HEADER_VALUE: u8 = 11;
export const HEAD_TOO_LARGE: u8 = 12;
export const TOO_MANY_HEADERS: u8 = 13;
export const MISSING_HOST: u8 = 14;
export const MULTIPLE_HOST: u8 = 15;
export const BAD_HOST: u8 = 16;
export const BAD_CONTENT_LENGTH: u8 = 17;
export const CONFLICTING_CONTENT_LENGTH: u8 = 18;
export const BAD_TRANSFER_ENCODING: u8 = 19;
export const UNSUPPORTED_TRANSFER_CODING: u8 = 20;
export const TRANSFER_ENCODING_IN_HTTP10: u8 = 21;
export const CONTENT_LENGTH_WITH_TRANSFER_ENCODING: u8 = 22;
export const UNSUPPORTED_EXPECTATION: u8 = 23;
export const BAD_CHUNK_SIZE: u8 = 24;
export const CHUNK_SIZE_OVERFLOW: u8 = 25;
export const BAD_CHUNK_EXTENSION: u8 = 26;
export const CHUNK_EXTENSION_TOO_LONG: u8 = 27;
export const BAD_CHUNK_TERMINATOR: u8 = 28;

/** The status code a rejection reason is answered with. */
export function statusOf(reason: u8): u16 {
  switch (reason) {
    case TARGET_TOO_LONG: return 414;
    case UNSUPPORTED_VERSION: return 505;
    case HEAD_TOO_LARGE: return 431;
    case TOO_MANY_HEADERS: return 431;
    case UNSUPPORTED_TRANSFER_CODING: return 501;
    case UNSUPPORTED_EXPECTATION: return 417;
    default: return 400;
  }
}

/**
 * Writes a rejection record (reason u8, status u16, offset u32: 8 bytes, align 4) at `at`.
 * Every outcome variant that can be `invalid(rejection)` places the record at its payload.
 */
export function storeRejection(at: usize, reason: u8, offset: u32): void {
  store<u8>(at, reason);
  store<u16>(at, statusOf(reason), 2);
  store<u32>(at, offset, 4);
}
