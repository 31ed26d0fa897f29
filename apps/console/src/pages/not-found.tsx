import { BASE, onLinkClick } from '../lib/router';

export function NotFoundPage() {
  return (
    <section class="empty">
      <h1>Page not found</h1>
      <p>There is no such page in the console.</p>
      <p>
        <a href={`${BASE}/accounts`} onClick={onLinkClick}>
          Go to your accounts
        </a>
      </p>
    </section>
  );
}
