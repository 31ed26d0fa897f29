import { useState } from 'preact/hooks';
import { newIdempotencyKey } from '../api/client';
import type { AccountPage, AccountResource, AccountStatus } from '../api/wire';
import { Dialog } from '../components/dialog';
import { ErrorMessage } from '../components/error-message';
import { formatRfc2822 } from '../lib/format';
import { accountHref, onLinkClick } from '../lib/router';
import { isUnauthorized, signedOutReason, useAccountSession, useLoad, useSession } from '../session';
import { StatusBadge } from '../components/status-badge';

const PAGE_SIZE = 25;

type Action = { kind: 'rename' | AccountStatus; account: AccountResource };

export function AccountsPage() {
  const { me } = useAccountSession();
  const isMain = me.owner_account_sid === me.sid;
  const [filters, setFilters] = useState({ name: '', status: '' });
  const [draft, setDraft] = useState(filters);
  const [pageUri, setPageUri] = useState<string | null>(null);
  const [action, setAction] = useState<Action | null>(null);
  const [announcement, setAnnouncement] = useState('');

  const accounts = useLoad<AccountPage>(
    (client) =>
      pageUri
        ? client.follow(pageUri)
        : client.listAccounts({ FriendlyName: filters.name || undefined, Status: filters.status || undefined, PageSize: PAGE_SIZE }),
    [filters, pageUri],
  );

  const applyFilters = (event: Event) => {
    event.preventDefault();
    setPageUri(null);
    setFilters({ ...draft });
  };
  const changed = (message: string) => {
    setAnnouncement(message);
    accounts.reload();
  };
  const filtered = filters.name !== '' || filters.status !== '';

  return (
    <section>
      <h1>Accounts</h1>
      <p class="lede">
        {isMain ? 'Your main account and its subaccounts.' : 'Your subaccount. Its owner account manages its status.'}
      </p>
      {/* Present before it has anything to say, so that screen readers announce what it says later. */}
      <p class={announcement ? 'message success' : 'visually-hidden'} role="status">
        {announcement}
      </p>
      {isMain && <CreateSubaccount onCreated={(account) => changed(`Created the subaccount “${account.friendly_name}”.`)} />}

      <form class="filters" onSubmit={applyFilters} aria-label="Filter accounts">
        <div class="field">
          <label for="filter-name">Name (exact)</label>
          <input id="filter-name" value={draft.name} onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}>
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="suspended">Suspended</option>
            <option value="closed">Closed</option>
          </select>
        </div>
        <button type="submit" class="secondary">
          Apply filters
        </button>
        {filtered && (
          <button
            type="button"
            class="link"
            onClick={() => {
              setDraft({ name: '', status: '' });
              setFilters({ name: '', status: '' });
              setPageUri(null);
            }}
          >
            Clear filters
          </button>
        )}
      </form>

      {accounts.error ? (
        <ErrorMessage error={accounts.error} onRetry={accounts.reload} />
      ) : !accounts.data ? (
        <p class="loading">Loading accounts…</p>
      ) : accounts.data.accounts.length === 0 ? (
        <p class="empty">{filtered ? 'No account matches these filters.' : 'No accounts on this page.'}</p>
      ) : (
        <AccountsTable page={accounts.data} me={me} busy={accounts.loading} onAction={setAction} />
      )}
      {accounts.data && isMain && !filtered && accounts.data.accounts.length === 1 && !accounts.data.previous_page_uri && (
        <p class="empty">No subaccounts yet: create one above.</p>
      )}

      {accounts.data && (accounts.data.previous_page_uri || accounts.data.next_page_uri) && (
        <nav class="pager" aria-label="Pages of accounts">
          <button type="button" class="secondary" disabled={!accounts.data.previous_page_uri} onClick={() => setPageUri(accounts.data!.previous_page_uri)}>
            Previous page
          </button>
          <span>Page {accounts.data.page + 1}</span>
          <button type="button" class="secondary" disabled={!accounts.data.next_page_uri} onClick={() => setPageUri(accounts.data!.next_page_uri)}>
            Next page
          </button>
        </nav>
      )}

      <ActionDialog action={action} onClose={() => setAction(null)} onDone={changed} />
    </section>
  );
}

function AccountsTable({ page, me, busy, onAction }: { page: AccountPage; me: AccountResource; busy: boolean; onAction(action: Action): void }) {
  return (
    <table class="accounts stack" aria-busy={busy}>
      <caption class="visually-hidden">Accounts, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">SID</th>
          <th scope="col">Status</th>
          <th scope="col">Type</th>
          <th scope="col">Created</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {page.accounts.map((account) => {
          const self = account.sid === me.sid;
          const closed = account.status === 'closed';
          return (
            <tr key={account.sid}>
              <td data-label="Name">
                <a href={accountHref(account.sid)} onClick={onLinkClick} class="account-name">
                  {account.friendly_name}
                </a>
                {self && <span class="tag">you</span>}
              </td>
              <td data-label="SID" class="mono">
                {account.sid}
              </td>
              <td data-label="Status">
                <StatusBadge status={account.status} />
              </td>
              <td data-label="Type">{account.type}</td>
              <td data-label="Created">{formatRfc2822(account.date_created)}</td>
              <td class="actions">
                {!closed && (
                  <button type="button" class="small secondary" onClick={() => onAction({ kind: 'rename', account })} aria-label={`Rename ${account.friendly_name}`}>
                    Rename
                  </button>
                )}
                {!self && account.status === 'active' && (
                  <button type="button" class="small secondary" onClick={() => onAction({ kind: 'suspended', account })} aria-label={`Suspend ${account.friendly_name}`}>
                    Suspend
                  </button>
                )}
                {!self && account.status === 'suspended' && (
                  <button type="button" class="small secondary" onClick={() => onAction({ kind: 'active', account })} aria-label={`Reactivate ${account.friendly_name}`}>
                    Reactivate
                  </button>
                )}
                {!self && !closed && (
                  <button type="button" class="small danger" onClick={() => onAction({ kind: 'closed', account })} aria-label={`Close ${account.friendly_name}`}>
                    Close
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function CreateSubaccount({ onCreated }: { onCreated(account: AccountResource): void }) {
  const { client, signOut } = useSession();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // One key per intended creation: a double click or a retry after a lost answer creates one account.
  const [key, setKey] = useState(newIdempotencyKey);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const account = await client.createSubaccount(name.trim(), key);
      setName('');
      setKey(newIdempotencyKey());
      onCreated(account);
    } catch (e) {
      if (isUnauthorized(e)) return signOut(signedOutReason(e));
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="create" onSubmit={submit} aria-label="Create a subaccount">
      <div class="field grow">
        <label for="new-name">New subaccount’s name</label>
        <input
          id="new-name"
          value={name}
          maxLength={64}
          onInput={(e) => {
            setName(e.currentTarget.value);
            setKey(newIdempotencyKey());
          }}
          aria-describedby="new-name-hint"
        />
        <p id="new-name-hint" class="hint">
          Up to 64 characters; left empty, the service names it by its creation time.
        </p>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create subaccount'}
      </button>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

const CONFIRM: Record<AccountStatus, { title: (name: string) => string; body: string; button: string; danger?: boolean }> = {
  suspended: {
    title: (name) => `Suspend “${name}”?`,
    body: 'Its credentials stop working until you reactivate it. Nothing is deleted.',
    button: 'Suspend',
  },
  active: {
    title: (name) => `Reactivate “${name}”?`,
    body: 'Its credentials work again.',
    button: 'Reactivate',
  },
  closed: {
    title: (name) => `Close “${name}” for good?`,
    body: 'Closing is irreversible: a closed account can never be reactivated, renamed or used again. Its history is kept.',
    button: 'Close it permanently',
    danger: true,
  },
};

function ActionDialog({ action, onClose, onDone }: { action: Action | null; onClose(): void; onDone(message: string): void }) {
  const { client, signOut } = useSession();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [key, setKey] = useState(newIdempotencyKey);
  const [shown, setShown] = useState<Action | null>(null);

  // A new action starts from a clean form.
  if (action !== shown) {
    setShown(action);
    setName(action?.account.friendly_name ?? '');
    setError(null);
    setBusy(false);
    setKey(newIdempotencyKey());
  }
  if (!action) return <Dialog title="" open={false} onClose={onClose} children={null} />;

  const account = action.account;
  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const updated = await client.updateAccount(account.sid, action.kind === 'rename' ? { FriendlyName: name } : { Status: action.kind }, key);
      onClose();
      onDone(
        action.kind === 'rename'
          ? `Renamed “${account.friendly_name}” to “${updated.friendly_name}”.`
          : `“${updated.friendly_name}” is now ${updated.status}.`,
      );
    } catch (e) {
      if (isUnauthorized(e)) return signOut(signedOutReason(e));
      setError(e);
      setBusy(false);
    }
  };

  if (action.kind === 'rename') {
    return (
      <Dialog title={`Rename “${account.friendly_name}”`} open onClose={onClose}>
        <form onSubmit={run}>
          <label for="rename-input">New name</label>
          <input id="rename-input" value={name} maxLength={64} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
          {error !== null && <ErrorMessage error={error} />}
          <div class="dialog-buttons">
            <button type="button" class="secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" disabled={busy}>
              {busy ? 'Saving…' : 'Save name'}
            </button>
          </div>
        </form>
      </Dialog>
    );
  }
  const confirm = CONFIRM[action.kind];
  return (
    <Dialog title={confirm.title(account.friendly_name)} open onClose={onClose}>
      <form onSubmit={run}>
        <p>{confirm.body}</p>
        <p class="mono">{account.sid}</p>
        {error !== null && <ErrorMessage error={error} />}
        <div class="dialog-buttons">
          <button type="button" class="secondary" onClick={onClose} autoFocus>
            Cancel
          </button>
          <button type="submit" class={confirm.danger ? 'danger' : undefined} disabled={busy}>
            {busy ? 'Working…' : confirm.button}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
