export {
  EMPTY_ROOT,
  Frontier,
  HASH_BYTES,
  consistencyPath,
  frontierNodes,
  hashChildren,
  hashLeaf,
  inclusionPath,
  lastLeafOf,
  nodesRead,
  rangeHash,
  rootFromInclusion,
  sha256,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
  type NodeRef,
  type PerfectNodes,
} from './merkle-tree';
export { STORED_EVENT_COLUMNS, canonicalJson, encodeEvent, eventLeafHash, storedEventOf, type StoredEvent, type StoredEventRow } from './event-encoding';
export {
  HeadFormatError,
  HeadSigner,
  headFromJson,
  headMessage,
  headToJson,
  keyIdOf,
  publicKeyObject,
  signatureHolds,
  type TreeHead,
  type TreeHeadJson,
} from './tree-head';
export { SIGNING_KEY_FILE, loadOrCreateSigningKey } from './signing-key.loader';
export { LEDGER_OFF_MESSAGE, LedgerProjection, LedgerForkError, LedgerKeyChangedError } from './ledger.projection';
export { LedgerStorageError, headAt, latestHead, readHeads, storedTreeSize } from './ledger-tree.store';
export { proveEvent, proofToJson, checkProofOffline, type InclusionProof, type InclusionProofJson, type ProveOutcome, type OfflineCheck } from './ledger-proofs';
export { verifyLedger, type LedgerVerifyReport, type LedgerDifference, type GivenHeadCheck, type VerifyLedgerOptions } from './ledger-verifier';
export { BinaryEventEncoder, COPY_EVENT_COLUMNS } from './binary-event-encoder';
export { copyOut } from './copy-out';
