/**
 * Values sealed by the SecretBox of before key ids (format v1), kept verbatim: stored events hold
 * such values forever, so every later version must open them under the key that sealed them.
 */
export const LEGACY_SEALS = {
  key: Buffer.from('0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0fa5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5', 'hex'),
  values: [
    { sealed: 'v1.vx5KUXX4aI2UR1X_.pSNByU6WcD-Uxrn6e1Esgw.vOtlvael0X2Pi9i4YzH_lXMIl5ZEM0g1AlOojCowkso', context: `AC${'a'.repeat(32)}`, plaintext: '0123456789abcdef0123456789abcdef' },
    { sealed: 'v1.kb_iJPDnAeI0qzaa.oF_Z8JlwG4A5EDgV4zWrZA.', context: '', plaintext: '' },
    { sealed: 'v1.GR8zitQXhRX2KFuN.Ah8xFp7BMTDTirjMyldwtw.O0jobtQrd5rIrKLS4VuEv_9V', context: 'idempotency:ACx:k1', plaintext: '{"answer":"ünï"}' },
  ],
} as const;
