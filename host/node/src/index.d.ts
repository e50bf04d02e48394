// Types of @kiln/engine. The WIT's records with camelCase fields, every u64 as a number.

export declare const WIT_VERSION: string;

export interface Caller { tenantId: string; userId: string }

export type Precondition = 'any' | 'absent' | { version: number | bigint };
export interface StoreEntry { value: Uint8Array; version: number | bigint }
/** A synchronous key-value store with compare-and-swap; throw StoreError to report a failure. */
export interface Store {
  get(key: string): StoreEntry | undefined | null;
  put(key: string, value: Uint8Array, expected: Precondition): number | bigint;
  delete(key: string, expected: Precondition): boolean;
  list(prefix: string): string[];
}

export type StoreErrorKind = 'conflict' | 'invalid-key' | 'backend';
export declare class StoreError extends Error {
  constructor(kind: StoreErrorKind, message?: string);
  kind: StoreErrorKind;
  detail: string;
}

export type LlmErrorKind = 'rate-limited' | 'unavailable' | 'context-too-long' | 'invalid-request' | 'bad-output' | 'no-provider';
export declare class LlmError extends Error {
  constructor(kind: LlmErrorKind, message?: string);
  kind: LlmErrorKind;
  detail: string;
}

export interface LlmRequest {
  purpose: 'extract' | 'draft';
  sessionId: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  /** A JSON Schema (text) the answer must match. */
  jsonSchema?: string;
}
export interface Completion { text: string; provider?: string; model?: string }
/** Answers a completion; throw LlmError (or anything: `unavailable`) when there is none. */
export type Llm = (request: LlmRequest) => Promise<Completion>;

export declare function openAiLlm(options: {
  baseUrl: string;
  model: string;
  apiKey?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}): Llm;

export declare class MemoryStore implements Store {
  get(key: string): StoreEntry | undefined;
  put(key: string, value: Uint8Array, expected: Precondition): number;
  delete(key: string, expected: Precondition): boolean;
  list(prefix: string): string[];
}

export type KilnErrorKind =
  | 'not-found' | 'expired' | 'invalid-input' | 'oauth-refused' | 'no-draft' | 'corrupt'
  | 'contention' | 'internal' | 'store';
export declare class KilnError extends Error {
  kind: KilnErrorKind;
  detail: unknown;
}

export type Phase = 'idle' | 'discovery' | 'oauth-flow' | 'requirements' | 'generation' | 'testing' | 'activation' | 'complete';
export interface Action { kind: string; label: string; value: string }
export interface Requirement { field: string; value: string; turn: number }
export interface ChatChunk {
  sessionId: string;
  phase: Phase;
  text: string;
  actions: Action[];
  connect?: { provider: string; state: string; scopes: string[] };
  requirements?: Requirement[];
  draft?: { id: string; revision: number; specJson: string };
  done: boolean;
}
export interface SessionView {
  sessionId: string;
  userId: string;
  tenantId: string;
  phase: Phase;
  requirements: Requirement[];
  connected: string[];
  pendingOauth?: { provider: string; scopes: string[]; state: string; startedAtMs: number; expiresAtMs: number };
  draftAgentId?: string;
  iteration: number;
  turn: number;
  createdAtMs: number;
  lastActiveAtMs: number;
  version: number;
  history: { from: Phase; to: Phase; cause: string; turn: number }[];
}
export interface SessionSummary { sessionId: string; phase: Phase; goal?: string; lastActiveAtMs: number }
export type TurnInput = string | { message: string } | { oauth: { state: string; approved: boolean } } | { back: true } | { reset: true };
export interface TurnOptions {
  llm?: boolean;
  context?: boolean;
  idleTimeoutMs?: number;
  oauthTtlMs?: number;
  onProgress?: (line: string) => void;
}
export interface Conversation {
  conversationId: string;
  prompt: string;
  createdAt: string;
  workflowId: string | null;
  metadata: Record<string, string>;
}
export interface Provider { id: string; name: string; needsOauth: boolean; scopes: string[] }

export interface Engine {
  startSession(caller: Caller): SessionView;
  turn(caller: Caller, sessionId: string, input: TurnInput, options?: TurnOptions): Promise<ChatChunk[]>;
  getSession(caller: Caller, sessionId: string): SessionView;
  listSessions(caller: Caller): SessionSummary[];
  deleteSession(caller: Caller, sessionId: string): void;
  expireIdle(idleTimeoutMs: number): number;
  exportAgent(caller: Caller, sessionId: string): unknown;
  agentSchema(): unknown;
  providers(): Provider[];
  queue: {
    add(request: { prompt: string; workflowId?: string; metadata?: Record<string, string> }): Conversation;
    list(): Conversation[];
    next(): Conversation | null;
    start(conversationId: string): { conversation: Conversation; wasQueued: boolean };
    conversationStep(prompt: string, workflowId: string, metadata?: Record<string, string>): string;
  };
}

export declare function createEngine(options: {
  store: Store;
  llm?: Llm;
  clock?: () => { seconds: number; nanoseconds: number };
  random?: (len: number) => Uint8Array;
}): Promise<Engine>;
