export { newAuthToken, safeEqual } from './auth-token.util';
export { SecretBox, SecretBoxError, keyIdOf, parseSealed, type SealedParts } from './secret-box.cipher';
export { Keyring, describeUnopenable, type UnopenableReason } from './keyring';
export { loadOrCreateKey, loadOrCreateKeyFile, loadKeys, ENCRYPTION_KEY_FILE, type KeyFileSpec, type LoadKeyOptions, type LoadKeysOptions } from './encryption-key.loader';
export { newApiKeySecret, apiKeySecretVerifier, apiKeySecretMatches, API_KEY_SECRET_LENGTH } from './api-key-secret';
