export { newAuthToken, safeEqual } from './auth-token.util';
export { SecretBox, SecretBoxError } from './secret-box.cipher';
export { loadOrCreateKey, ENCRYPTION_KEY_FILE, type LoadKeyOptions } from './encryption-key.loader';
