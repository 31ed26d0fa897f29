import { ApiError, ServiceUnavailable } from '../api/client';

export function describeError(error: unknown): { title: string; message: string } {
  if (error instanceof ServiceUnavailable) return { title: 'Service unavailable', message: error.message };
  if (error instanceof ApiError) {
    if (error.status === 429) {
      return { title: 'Too many requests', message: `Wait ${error.retryAfter ?? 'a few'} seconds, then try again.` };
    }
    if (error.status === 404) return { title: 'Not found', message: 'It does not exist, or your account cannot see it.' };
    return { title: 'The service refused this', message: `${error.message}${error.code ? ` (error ${error.code})` : ''}` };
  }
  return { title: 'Something went wrong', message: error instanceof Error ? error.message : String(error) };
}

export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { title, message } = describeError(error);
  return (
    <div class="message error" role="alert">
      <p>
        <strong>{title}.</strong> {message}
      </p>
      {onRetry && (
        <button type="button" class="secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
