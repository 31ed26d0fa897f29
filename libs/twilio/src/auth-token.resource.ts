import { trimBaseUrl } from './query-string.util';
import { formatIso8601Seconds } from './twilio-date.format';

/** accounts.twilio.com v1 paths, served here (CREDENTIALS.md §3, §4). */
export const SECONDARY_AUTH_TOKEN_PATH = '/v1/AuthTokens/Secondary';
export const AUTH_TOKEN_PROMOTION_PATH = '/v1/AuthTokens/Promote';

export interface IssuedTokenView {
  accountSid: string;
  authToken: string;
  at: Date;
}

/** POST /v1/AuthTokens/Secondary (201): exactly the spec's fields, ISO 8601 dates. */
export interface SecondaryAuthTokenResource {
  account_sid: string;
  date_created: string;
  date_updated: string;
  secondary_auth_token: string;
  url: string;
}

/** POST /v1/AuthTokens/Promote (200). */
export interface AuthTokenPromotionResource {
  account_sid: string;
  auth_token: string;
  date_created: string;
  date_updated: string;
  url: string;
}

export function toSecondaryAuthTokenResource(view: IssuedTokenView, baseUrl: string): SecondaryAuthTokenResource {
  const at = formatIso8601Seconds(view.at);
  return {
    account_sid: view.accountSid,
    date_created: at,
    date_updated: at,
    secondary_auth_token: view.authToken,
    url: `${trimBaseUrl(baseUrl)}${SECONDARY_AUTH_TOKEN_PATH}`,
  };
}

/** Both dates are the promotion's: the moment this token became the primary. */
export function toAuthTokenPromotionResource(view: IssuedTokenView, baseUrl: string): AuthTokenPromotionResource {
  const at = formatIso8601Seconds(view.at);
  return {
    account_sid: view.accountSid,
    auth_token: view.authToken,
    date_created: at,
    date_updated: at,
    url: `${trimBaseUrl(baseUrl)}${AUTH_TOKEN_PROMOTION_PATH}`,
  };
}
