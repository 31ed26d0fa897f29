export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status === 'active' || status === 'suspended' || status === 'closed' ? status : 'other'}`}>{status}</span>;
}
