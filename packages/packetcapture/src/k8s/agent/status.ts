// What the agent owns in a PacketCapture's status (field manager `packetcapture-agent`). Server-side apply is
// declarative: every apply carries the agent's whole view, so nothing it set earlier is dropped by mistake.
import type { PacketCaptureCondition } from '../types.ts';

export const AGENT_FIELD_MANAGER = 'packetcapture-agent';

export interface AgentStatus {
  numberCaptured?: number;
  filePath?: string;
  startTime?: string;
  completionTime?: string;
  conditions: PacketCaptureCondition[];
}

export function withCondition(
  status: AgentStatus,
  type: PacketCaptureCondition['type'],
  conditionStatus: PacketCaptureCondition['status'],
  reason: string,
  message: string,
): AgentStatus {
  const now = new Date().toISOString();
  const existing = status.conditions.find((c) => c.type === type);
  const lastTransitionTime =
    existing && existing.status === conditionStatus ? existing.lastTransitionTime : now;
  const condition: PacketCaptureCondition = {
    type,
    status: conditionStatus,
    reason,
    message,
    ...(lastTransitionTime ? { lastTransitionTime } : {}),
  };
  return { ...status, conditions: [...status.conditions.filter((c) => c.type !== type), condition] };
}
