import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { PortalSession } from "./api";

/** Who is signed in: an API key (the console) or a portal session (its endpoints and capabilities). */
export interface SessionInfo {
  portal: PortalSession | null;
}

export const Session = createContext<SessionInfo>({ portal: null });

export function useSession(): SessionInfo {
  return useContext(Session);
}

/** Whether the signed-in party may do `capability` (an API key may do everything its scopes allow; the server decides). */
export function useCan(capability: "retry" | "replay" | "rotateSecret" | "payloadShape" | "proofs" | "admin"): boolean {
  const { portal } = useSession();
  if (portal === null) return true;
  return capability !== "admin" && portal.capabilities.includes(capability);
}
