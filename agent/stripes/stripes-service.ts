// The Stripes service as ecguard serves and calls it: the generated definition with the
// entry-carrying messages on copy-free codecs: the responses of ReadEntries and StreamEntries
// (shared/wire/entry-data-codec.ts) and the requests of PlaceArchive (place-chunk-codec.ts).
// The bytes on the wire are the generated codec's, so a peer on either codec understands the other.
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { StripesClient, StripesService } from '../../proto/gen/ecguard/v1/stripes.js';
import { decodeEntryData, encodeEntryData } from '../../shared/wire/entry-data-codec.js';
import { decodePlaceChunk, encodePlaceChunk } from '../../shared/wire/place-chunk-codec.js';

export const FastStripesService: typeof StripesService = {
  ...StripesService,
  readEntries: { ...StripesService.readEntries, responseSerialize: encodeEntryData, responseDeserialize: decodeEntryData },
  streamEntries: { ...StripesService.streamEntries, responseSerialize: encodeEntryData, responseDeserialize: decodeEntryData },
  placeArchive: { ...StripesService.placeArchive, requestSerialize: encodePlaceChunk, requestDeserialize: decodePlaceChunk },
};

export const FastStripesClient = makeGenericClientConstructor(FastStripesService, 'ecguard.v1.Stripes') as unknown as typeof StripesClient;
