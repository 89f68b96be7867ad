// The PacketCapture API (packetcapture.harbormaster.dev/v1alpha1), as in config/crd/packetcapture.yaml:
// Antrea's crd.antrea.io/v1alpha1 PacketCapture field for field, plus CIDR and Service endpoints, a
// tcpdump-syntax filter, a snap length and a file size limit. A manifest written for Antrea works here after
// changing only its apiVersion.

export const GROUP = 'packetcapture.harbormaster.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'PacketCapture';
export const PLURAL = 'packetcaptures';

export interface PodReference {
  namespace?: string;
  name: string;
}

export interface ServiceReference {
  namespace?: string;
  name: string;
  /** ClusterIP (default): the Service's cluster IPs; Endpoints: the addresses of its ready endpoints. */
  target?: 'ClusterIP' | 'Endpoints';
}

/** At most one field set; at least one side of a capture is a Pod. */
export interface Endpoint {
  pod?: PodReference;
  ip?: string;
  cidr?: string;
  service?: ServiceReference;
}

export interface PortFilter {
  srcPort?: number;
  dstPort?: number;
}

export interface TcpFlagFilter {
  value: number;
  mask?: number;
}

export interface IcmpMessage {
  type: number | string;
  code?: number;
}

export interface TransportHeader {
  tcp?: PortFilter & { flags?: TcpFlagFilter[] };
  udp?: PortFilter;
  icmp?: { messages?: IcmpMessage[] };
  icmpv6?: { messages?: IcmpMessage[] };
}

export interface PacketFilter {
  ipFamily?: 'IPv4' | 'IPv6';
  protocol?: number | string;
  transportHeader?: TransportHeader;
}

export type CaptureDirection = 'SourceToDestination' | 'DestinationToSource' | 'Both';
export type CapturePoint = 'Source' | 'Destination';

export interface PacketCaptureSpec {
  timeout?: number;
  captureConfig: {
    firstN?: { number: number };
    /** Bytes kept of each packet (default 65536, as Antrea). */
    snapLength?: number;
    /** Bytes, or a quantity such as `10Mi`; the capture stops before the file would exceed it. */
    fileSizeLimit?: number | string;
  };
  source?: Endpoint;
  destination?: Endpoint;
  direction?: CaptureDirection;
  capturePoint?: CapturePoint;
  packet?: PacketFilter;
  /** tcpdump syntax, ANDed with the structured fields. */
  filter?: string;
  fileServer?: { url?: string; hostPublicKey?: string };
}

export type ConditionType = 'PacketCaptureStarted' | 'PacketCaptureComplete' | 'PacketCaptureFileUploaded';

export interface PacketCaptureCondition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/**
 * Written by the controller (field manager `packetcapture-controller`): the node whose agent runs the
 * capture, the capture-point Pod, and every endpoint resolved to addresses (IPs or CIDRs). `revision` grows
 * each time the addresses change (a Service's endpoints moved), so the agent knows to swap its filter.
 */
export interface Assignment {
  nodeName: string;
  pod: { namespace: string; name: string; uid: string };
  sourceAddresses?: string[];
  destinationAddresses?: string[];
  revision: number;
}

export interface PacketCaptureStatus {
  numberCaptured?: number;
  /** `sftp://…/<name>.pcapng` after an upload, `<node>:<path>` while the file stays on the node. */
  filePath?: string;
  conditions?: PacketCaptureCondition[];
  assignment?: Assignment;
  startTime?: string;
  completionTime?: string;
}

export interface PacketCapture {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: {
    name: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec: PacketCaptureSpec;
  status?: PacketCaptureStatus;
}

/** Antrea's Secret holds `username` and `password`; ours has the same keys under our own name. */
export const FILE_SERVER_SECRET = 'packetcapture-fileserver-auth';
/** At most this many captures run at once on one node, as Antrea; the rest wait. */
export const MAX_CONCURRENT_CAPTURES = 16;
/** Antrea's snap length, used when captureConfig.snapLength is not given. */
export const DEFAULT_SNAP_LENGTH = 65536;

/**
 * Set by the agent on a PacketCapture when it starts it: the bearer token its file endpoint asks for, so
 * whoever may read the PacketCapture (RBAC get/list) may fetch or follow its file, and nobody else.
 */
export const FETCH_TOKEN_ANNOTATION = 'packetcapture.harbormaster.dev/fetch-token';
