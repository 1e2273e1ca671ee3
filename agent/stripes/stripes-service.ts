// The Stripes service as ecguard serves and calls it: the generated definition with the
// entry-carrying responses (ReadEntries, StreamEntries) on the copy-free EntryData codec
// (shared/wire/entry-data-codec.ts). The bytes on the wire are the generated codec's, so a peer
// on either codec understands the other.
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { StripesClient, StripesService } from '../../proto/gen/ecguard/v1/stripes.js';
import { decodeEntryData, encodeEntryData } from '../../shared/wire/entry-data-codec.js';

export const FastStripesService: typeof StripesService = {
  ...StripesService,
  readEntries: { ...StripesService.readEntries, responseSerialize: encodeEntryData, responseDeserialize: decodeEntryData },
  streamEntries: { ...StripesService.streamEntries, responseSerialize: encodeEntryData, responseDeserialize: decodeEntryData },
};

export const FastStripesClient = makeGenericClientConstructor(FastStripesService, 'ecguard.v1.Stripes') as unknown as typeof StripesClient;
