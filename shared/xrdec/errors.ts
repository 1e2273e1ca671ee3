// Typed archive errors. Each carries the byte offset where the problem was found so an
// operator (or a test) can look at the exact spot with xxd.
import { EcguardError } from '../errors.js';

export class ArchiveError extends EcguardError {
  readonly offset: number;

  constructor(code: string, message: string, offset: number, options?: { cause?: unknown }) {
    super(code, `${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}

/** The file ends before a record it announces (or has no end-of-central-directory at all). */
export class TruncatedArchive extends ArchiveError {
  constructor(message: string, offset: number) {
    super('TRUNCATED_ARCHIVE', message, offset);
  }
}

/** Not a zip at all: no zip signature where one must be. */
export class NotAZip extends ArchiveError {
  constructor(message: string, offset: number) {
    super('NOT_A_ZIP', message, offset);
  }
}

/** End-of-central-directory (or its ZIP64 records) inconsistent with the file. */
export class BadEocd extends ArchiveError {
  constructor(message: string, offset: number) {
    super('BAD_EOCD', message, offset);
  }
}

export class BadCentralDirectory extends ArchiveError {
  constructor(message: string, offset: number) {
    super('BAD_CENTRAL_DIRECTORY', message, offset);
  }
}

export class BadLocalHeader extends ArchiveError {
  constructor(message: string, offset: number) {
    super('BAD_LOCAL_HEADER', message, offset);
  }
}

/** A well-formed zip entry whose name is not XrdEc's `obj.<block>.<stripe>`. */
export class NotXrdEcEntry extends ArchiveError {
  constructor(message: string, offset: number) {
    super('NOT_XRDEC_ENTRY', message, offset);
  }
}

/** An entry's bytes do not match the CRC recorded for it. */
export class CrcMismatch extends ArchiveError {
  constructor(message: string, offset: number) {
    super('CRC_MISMATCH', message, offset);
  }
}
