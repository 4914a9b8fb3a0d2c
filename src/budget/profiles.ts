/**
 * The load balancers rollsafe knows, as their own controllers read them: the annotations and classes that put
 * one in front of a Service's pods, and what the vendor documents about how late it stops sending to a
 * terminating pod and how long it keeps connections to it. Sources are cited per constant; the README's
 * "Termination budget" section lists them for people.
 */

/** A profile of the policy's `loadBalancers`: how late each kind of front stops sending new connections. */
export type ProfileName = 'awsAlbIp' | 'awsNlbIp' | 'gkeNeg' | 'ingressNginx' | 'gatewayApi';

// AWS Load Balancer Controller (kubernetes-sigs/aws-load-balancer-controller, docs/guide/ingress/annotations.md,
// docs/guide/service/annotations.md, docs/deploy/pod_readiness_gate.md).
export const ALB_INGRESS_CLASS = 'alb';
/** IngressClass spec.controller of the ALB controller. */
export const ALB_INGRESS_CONTROLLER = 'ingress.k8s.aws/alb';
/** instance (the default: NodePorts, then kube-proxy) or ip (pod IPs, registered by the controller). */
export const ALB_TARGET_TYPE = 'alb.ingress.kubernetes.io/target-type';
export const ALB_TARGET_GROUP_ATTRIBUTES = 'alb.ingress.kubernetes.io/target-group-attributes';
/** external (or the legacy nlb-ip) hands a Service of type LoadBalancer to the controller. */
export const NLB_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-type';
export const NLB_LOAD_BALANCER_CLASS = 'service.k8s.aws/nlb';
export const NLB_TARGET_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type';
export const NLB_TARGET_GROUP_ATTRIBUTES = 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes';
/** ELB target groups' deregistration_delay.timeout_seconds when not set (Elastic Load Balancing user guide). */
export const ELB_DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;
/**
 * The namespace label with which the controller injects readiness gates (target-health.elbv2.k8s.aws/...) into
 * the pods of IP targets: without them a pod is Ready before its target is healthy, and a rollout can replace
 * every pod before the load balancer sends to any new one.
 */
export const AWS_READINESS_GATE_LABEL = 'elbv2.k8s.aws/pod-readiness-gate-inject';
export const AWS_READINESS_GATE_PREFIX = 'target-health.elbv2.k8s.aws/';

// GKE container-native load balancing (kubernetes/ingress-gce; GKE docs "Container-native load balancing",
// "Ingress configuration": BackendConfig connectionDraining).
export const GKE_NEG = 'cloud.google.com/neg';
/** kubernetes.io/ingress.class values of GKE's own Ingress controller (ingress-gce pkg/utils IsGCEIngress). */
export const GCE_INGRESS_CLASSES = ['gce', 'gce-internal', 'gce-regional-external'];
/** The longest deregistration delay ELB and connection draining GCE accept, in seconds. */
export const MAX_DRAINING_SECONDS = 3600;
export const GKE_BACKEND_CONFIG = 'cloud.google.com/backend-config';
export const GKE_BACKEND_CONFIG_BETA = 'beta.cloud.google.com/backend-config';

// ingress-nginx (kubernetes/ingress-nginx): it sends to the endpoints of a Service itself, unless told to use
// the Service's ClusterIP.
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const NGINX_INGRESS_CLASS = 'nginx';
export const NGINX_INGRESS_CONTROLLER = 'k8s.io/ingress-nginx';
/**
 * Sends to the Service's ClusterIP instead of its endpoints (controller.go createUpstreams, getServiceClusterEndpoint;
 * for a headless Service, which has none, it falls back to the endpoints). Read with Go's strconv.ParseBool
 * (annotations/serviceupstream, parser.GetBoolAnnotation): these spellings are true, anything else false. The
 * controller's ConfigMap may make it the default (`service-upstream`, "false" unless set), which an Ingress
 * does not show.
 */
export const NGINX_SERVICE_UPSTREAM = 'nginx.ingress.kubernetes.io/service-upstream';
export const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
/**
 * When nginx passes a request to the next try (annotations/proxy/main.go; the template's buildNextUpstream
 * writes it into proxy_next_upstream). The controller accepts only these words (validUpstreamAnnotation) and
 * takes its default, "error timeout" (config.go NewDefault), for any other value.
 */
export const NGINX_PROXY_NEXT_UPSTREAM = 'nginx.ingress.kubernetes.io/proxy-next-upstream';
export const NGINX_NEXT_UPSTREAM_VALUE = /^((error|timeout|invalid_header|http_500|http_502|http_503|http_504|http_403|http_404|http_429|non_idempotent|off)\s?)+$/;
export const NGINX_DEFAULT_NEXT_UPSTREAM = 'error timeout';
/**
 * The upstream keep-alive cache of the controller's ConfigMap (config.go NewDefault; nginx.tmpl `upstream
 * upstream_balancer`): upstream-keepalive-connections idle connections per worker, each used for up to
 * upstream-keepalive-time or upstream-keepalive-requests requests, closed after upstream-keepalive-timeout idle.
 * No Ingress annotation sets them. nginx reuses a cached connection only to the address the balancer picks
 * (ngx_http_upstream_keepalive_module.c compares sockaddr): a removed endpoint's connections go unused, but
 * with service-upstream every connection is to the ClusterIP, and kube-proxy leaves an established TCP
 * connection on the pod it chose (pkg/proxy/conntrack cleans UDP entries only).
 */
export const NGINX_UPSTREAM_KEEPALIVE = { connections: 320, time: '1h', requests: 10000, timeoutSeconds: 60 } as const;

/**
 * How a workload declares load balancers in front of it that rollsafe cannot see (the webhook sees one object;
 * a target group may be managed outside the cluster): profile names, comma-separated ("awsAlbIp").
 */
export const LOAD_BALANCER_ANNOTATION = 'rollsafe.dev/load-balancer';
/** The profiles of the AWS Load Balancer Controller's IP targets, which need its readiness gates. */
export const AWS_IP_PROFILES: readonly ProfileName[] = ['awsAlbIp', 'awsNlbIp'];

/** The profiles a declaration may name, in the order they are documented. */
export const PROFILE_NAMES: readonly ProfileName[] = ['awsAlbIp', 'awsNlbIp', 'gkeNeg', 'ingressNginx', 'gatewayApi'];
/**
 * How long a declared front keeps connections to a deregistered pod, where nothing else says: the vendor's
 * default (ELB's deregistration delay 300 s; GKE connection draining 0; the others keep none).
 */
export const DECLARED_DRAINING_SECONDS: Record<ProfileName, number> = { awsAlbIp: 300, awsNlbIp: 300, gkeNeg: 0, ingressNginx: 0, gatewayApi: 0 };

/** The Gateway API's group, which ReferenceGrants name routes by. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** How a workload declares the longest life of one of its connections (websockets, gRPC streams). */
export const MAX_CONNECTION_ANNOTATION = 'rollsafe.dev/max-connection-seconds';

/** Service appProtocols (KEP-3726) and port names that mean connections outlive any preStop sleep. */
export const LONG_LIVED_APP_PROTOCOLS = ['kubernetes.io/ws', 'kubernetes.io/wss', 'kubernetes.io/h2c', 'grpc'];
export const LONG_LIVED_PORT_NAME = /^(?:grpc|h2c|wss?|websockets?)(?:-.*)?$/;

/**
 * Seconds from a pod's deletion until each kind of front stops sending it new connections (the policy's
 * loadBalancers defaults): the preStop sleep must cover them. All three controllers drop a terminating endpoint
 * at once (aws-load-balancer-controller pkg/backend/endpoint_resolver.go, ingress-gce pkg/neg/types/types.go
 * EndpointsDataFromEndpointSlices, ingress-nginx endpointslices.go); what follows is their own lag.
 * - awsAlbIp: no AWS number exists (the EKS Best Practices Guide shows `sleep 10` only as an example, and
 *   warns the controller and the ELB API take time); an ALB user found 25 s enough where 5 s was not
 *   (aws-load-balancer-controller#1064). 30 s.
 * - awsNlbIp: users measured that an NLB in IP mode keeps sending new connections for about 2 minutes after
 *   deregistration starts, whatever the deregistration delay (aws-load-balancer-controller#2366, #3270). 120 s.
 * - gkeNeg: the load balancer "will still send traffic for short amount of time" after the endpoint leaves
 *   the NEG (ingress-gce#769, a maintainer), with no number given. 20 s.
 * - ingressNginx: drops an endpoint that is not ready (endpointslices.go getEndpointsFromSlices), syncs at
 *   most every 3.3 s (--sync-rate-limit 0.3, a token bucket in syncIngress) and posts the backends to Lua,
 *   whose balancer in every worker reads them every 1 s (balancer.lua BACKENDS_SYNC_INTERVAL): covered by the
 *   plain 10 s.
 * - gatewayApi: the implementation decides (the spec does not say); 15 s until you set yours.
 */
export const LOAD_BALANCER_DEFAULTS: Record<ProfileName, number> = {
  awsAlbIp: 30,
  awsNlbIp: 120,
  gkeNeg: 20,
  ingressNginx: 10,
  gatewayApi: 15,
};
