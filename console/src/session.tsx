import { createContext, useContext } from 'react';
import type { Role, SessionInfo } from './api/types';

export interface SessionContextValue {
  session: SessionInfo;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a signed-in page');
  return value;
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** Whether the signed-in user's role reaches `role` (the API enforces the same rule). */
export function useCan(role: Role): boolean {
  return RANK[useSession().session.user.role] >= RANK[role];
}
