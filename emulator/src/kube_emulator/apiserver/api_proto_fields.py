"""The field table of the built-in kinds the embedded API decodes from (and encodes to) protobuf.

Facts of the Kubernetes API's published `generated.proto` files (k8s.io/api 10b39a39b, k8s.io/apimachinery
eed236cee), printed by `scripts/proto_fields.py`: one entry per message, `name=number:type` per field,
where type is a scalar (string, bool, int32, int64, double, bytes) or a message, `*` marks a repeated
field, `map:` a map from string, a trailing `?` a Go pointer scalar (its zero value is meaningful and
kept), `^` an embedded struct whose fields JSON inlines into the parent.
"""

MESSAGES: dict[str, str] = {
    "apps.v1.Deployment": (
        "metadata=1:meta.v1.ObjectMeta spec=2:apps.v1.DeploymentSpec status=3:apps.v1.DeploymentStatus"
    ),
    "apps.v1.DeploymentCondition": (
        "type=1:string status=2:string lastUpdateTime=6:meta.v1.Time lastTransitionTime=7:meta.v1.Time"
        " reason=4:string message=5:string"
    ),
    "apps.v1.DeploymentList": "metadata=1:meta.v1.ListMeta items=2:*apps.v1.Deployment",
    "apps.v1.DeploymentSpec": (
        "replicas=1:int32? selector=2:meta.v1.LabelSelector template=3:core.v1.PodTemplateSpec"
        " strategy=4:apps.v1.DeploymentStrategy minReadySeconds=5:int32 revisionHistoryLimit=6:int32?"
        " paused=7:bool progressDeadlineSeconds=9:int32?"
    ),
    "apps.v1.DeploymentStatus": (
        "observedGeneration=1:int64 replicas=2:int32 updatedReplicas=3:int32 readyReplicas=7:int32"
        " availableReplicas=4:int32 unavailableReplicas=5:int32 terminatingReplicas=9:int32?"
        " conditions=6:*apps.v1.DeploymentCondition collisionCount=8:int32?"
    ),
    "apps.v1.DeploymentStrategy": "type=1:string rollingUpdate=2:apps.v1.RollingUpdateDeployment",
    "apps.v1.RollingUpdateDeployment": ("maxUnavailable=1:intstr.IntOrString maxSurge=2:intstr.IntOrString"),
    "authentication.v1.ExtraValue": "items=1:*string",
    "authentication.v1.SelfSubjectReview": (
        "metadata=1:meta.v1.ObjectMeta status=2:authentication.v1.SelfSubjectReviewStatus"
    ),
    "authentication.v1.SelfSubjectReviewStatus": "userInfo=1:authentication.v1.UserInfo",
    "authentication.v1.UserInfo": (
        "username=1:string uid=2:string groups=3:*string extra=4:map:authentication.v1.ExtraValue"
    ),
    "authorization.v1.ExtraValue": "items=1:*string",
    "authorization.v1.FieldSelectorAttributes": (
        "rawSelector=1:string requirements=2:*meta.v1.FieldSelectorRequirement"
    ),
    "authorization.v1.LabelSelectorAttributes": (
        "rawSelector=1:string requirements=2:*meta.v1.LabelSelectorRequirement"
    ),
    "authorization.v1.LocalSubjectAccessReview": (
        "metadata=1:meta.v1.ObjectMeta spec=2:authorization.v1.SubjectAccessReviewSpec"
        " status=3:authorization.v1.SubjectAccessReviewStatus"
    ),
    "authorization.v1.NonResourceAttributes": "path=1:string verb=2:string",
    "authorization.v1.NonResourceRule": "verbs=1:*string nonResourceURLs=2:*string",
    "authorization.v1.ResourceAttributes": (
        "namespace=1:string verb=2:string group=3:string version=4:string resource=5:string"
        " subresource=6:string name=7:string fieldSelector=8:authorization.v1.FieldSelectorAttributes"
        " labelSelector=9:authorization.v1.LabelSelectorAttributes"
    ),
    "authorization.v1.ResourceRule": (
        "verbs=1:*string apiGroups=2:*string resources=3:*string resourceNames=4:*string"
    ),
    "authorization.v1.SelfSubjectAccessReview": (
        "metadata=1:meta.v1.ObjectMeta spec=2:authorization.v1.SelfSubjectAccessReviewSpec"
        " status=3:authorization.v1.SubjectAccessReviewStatus"
    ),
    "authorization.v1.SelfSubjectAccessReviewSpec": (
        "resourceAttributes=1:authorization.v1.ResourceAttributes"
        " nonResourceAttributes=2:authorization.v1.NonResourceAttributes"
    ),
    "authorization.v1.SelfSubjectRulesReview": (
        "metadata=1:meta.v1.ObjectMeta spec=2:authorization.v1.SelfSubjectRulesReviewSpec"
        " status=3:authorization.v1.SubjectRulesReviewStatus"
    ),
    "authorization.v1.SelfSubjectRulesReviewSpec": "namespace=1:string",
    "authorization.v1.SubjectAccessReview": (
        "metadata=1:meta.v1.ObjectMeta spec=2:authorization.v1.SubjectAccessReviewSpec"
        " status=3:authorization.v1.SubjectAccessReviewStatus"
    ),
    "authorization.v1.SubjectAccessReviewSpec": (
        "resourceAttributes=1:authorization.v1.ResourceAttributes"
        " nonResourceAttributes=2:authorization.v1.NonResourceAttributes user=3:string groups=4:*string"
        " extra=5:map:authorization.v1.ExtraValue uid=6:string"
    ),
    "authorization.v1.SubjectAccessReviewStatus": (
        "allowed=1:bool denied=4:bool reason=2:string evaluationError=3:string"
    ),
    "authorization.v1.SubjectRulesReviewStatus": (
        "resourceRules=1:*authorization.v1.ResourceRule"
        " nonResourceRules=2:*authorization.v1.NonResourceRule incomplete=3:bool evaluationError=4:string"
    ),
    "autoscaling.v1.Scale": (
        "metadata=1:meta.v1.ObjectMeta spec=2:autoscaling.v1.ScaleSpec status=3:autoscaling.v1.ScaleStatus"
    ),
    "autoscaling.v1.ScaleSpec": "replicas=1:int32",
    "autoscaling.v1.ScaleStatus": "replicas=1:int32 selector=2:string",
    "batch.v1.Job": "metadata=1:meta.v1.ObjectMeta spec=2:batch.v1.JobSpec status=3:batch.v1.JobStatus",
    "batch.v1.JobCondition": (
        "type=1:string status=2:string lastProbeTime=3:meta.v1.Time lastTransitionTime=4:meta.v1.Time"
        " reason=5:string message=6:string"
    ),
    "batch.v1.JobList": "metadata=1:meta.v1.ListMeta items=2:*batch.v1.Job",
    "batch.v1.JobSchedulingConfiguration": (
        "schedulingPolicy=1:scheduling.v1alpha3.WorkloadPodGroupSchedulingPolicy"
        " schedulingConstraints=2:scheduling.v1alpha3.WorkloadPodGroupSchedulingConstraints"
        " disruptionMode=3:scheduling.v1alpha3.WorkloadPodGroupDisruptionMode"
        " resourceClaims=4:*scheduling.v1alpha3.WorkloadPodGroupResourceClaim"
    ),
    "batch.v1.JobSpec": (
        "parallelism=1:int32? completions=2:int32? activeDeadlineSeconds=3:int64?"
        " podFailurePolicy=11:batch.v1.PodFailurePolicy successPolicy=16:batch.v1.SuccessPolicy"
        " backoffLimit=7:int32? backoffLimitPerIndex=12:int32? maxFailedIndexes=13:int32?"
        " selector=4:meta.v1.LabelSelector manualSelector=5:bool? template=6:core.v1.PodTemplateSpec"
        " ttlSecondsAfterFinished=8:int32? completionMode=9:string suspend=10:bool?"
        " podReplacementPolicy=14:string managedBy=15:string?"
        " scheduling=17:batch.v1.JobSchedulingConfiguration"
    ),
    "batch.v1.JobStatus": (
        "conditions=1:*batch.v1.JobCondition startTime=2:meta.v1.Time completionTime=3:meta.v1.Time"
        " active=4:int32 succeeded=5:int32 failed=6:int32 terminating=11:int32? completedIndexes=7:string"
        " failedIndexes=10:string? uncountedTerminatedPods=8:batch.v1.UncountedTerminatedPods"
        " ready=9:int32?"
    ),
    "batch.v1.PodFailurePolicy": "rules=1:*batch.v1.PodFailurePolicyRule",
    "batch.v1.PodFailurePolicyOnExitCodesRequirement": (
        "containerName=1:string? operator=2:string values=3:*int32"
    ),
    "batch.v1.PodFailurePolicyOnPodConditionsPattern": "type=1:string status=2:string",
    "batch.v1.PodFailurePolicyRule": (
        "action=1:string onExitCodes=2:batch.v1.PodFailurePolicyOnExitCodesRequirement"
        " onPodConditions=3:*batch.v1.PodFailurePolicyOnPodConditionsPattern"
    ),
    "batch.v1.SuccessPolicy": "rules=1:*batch.v1.SuccessPolicyRule",
    "batch.v1.SuccessPolicyRule": "succeededIndexes=1:string? succeededCount=2:int32?",
    "batch.v1.UncountedTerminatedPods": "succeeded=1:*string failed=2:*string",
    "coordination.v1.Lease": "metadata=1:meta.v1.ObjectMeta spec=2:coordination.v1.LeaseSpec",
    "coordination.v1.LeaseSpec": (
        "holderIdentity=1:string? leaseDurationSeconds=2:int32? acquireTime=3:meta.v1.MicroTime"
        " renewTime=4:meta.v1.MicroTime leaseTransitions=5:int32? strategy=6:string"
        " preferredHolder=7:string?"
    ),
    "core.v1.AWSElasticBlockStoreVolumeSource": (
        "volumeID=1:string fsType=2:string partition=3:int32 readOnly=4:bool"
    ),
    "core.v1.Affinity": (
        "nodeAffinity=1:core.v1.NodeAffinity podAffinity=2:core.v1.PodAffinity"
        " podAntiAffinity=3:core.v1.PodAntiAffinity"
    ),
    "core.v1.AppArmorProfile": "type=1:string localhostProfile=2:string?",
    "core.v1.AzureDiskVolumeSource": (
        "diskName=1:string diskURI=2:string cachingMode=3:string fsType=4:string? readOnly=5:bool?"
        " kind=6:string"
    ),
    "core.v1.AzureFileVolumeSource": "secretName=1:string shareName=2:string readOnly=3:bool",
    "core.v1.CSIVolumeSource": (
        "driver=1:string readOnly=2:bool? fsType=3:string? volumeAttributes=4:map:string"
        " nodePublishSecretRef=5:core.v1.LocalObjectReference"
    ),
    "core.v1.Capabilities": "add=1:*string drop=2:*string",
    "core.v1.CephFSVolumeSource": (
        "monitors=1:*string path=2:string user=3:string secretFile=4:string"
        " secretRef=5:core.v1.LocalObjectReference readOnly=6:bool"
    ),
    "core.v1.CinderVolumeSource": (
        "volumeID=1:string fsType=2:string readOnly=3:bool secretRef=4:core.v1.LocalObjectReference"
    ),
    "core.v1.ClientIPConfig": "timeoutSeconds=1:int32?",
    "core.v1.ClusterTrustBundleProjection": (
        "name=1:string? signerName=2:string? labelSelector=3:meta.v1.LabelSelector optional=5:bool?"
        " path=4:string user=6:int64?"
    ),
    "core.v1.ConfigMap": (
        "metadata=1:meta.v1.ObjectMeta immutable=4:bool? data=2:map:string binaryData=3:map:bytes"
    ),
    "core.v1.ConfigMapEnvSource": "localObjectReference=1:core.v1.LocalObjectReference^ optional=2:bool?",
    "core.v1.ConfigMapKeySelector": (
        "localObjectReference=1:core.v1.LocalObjectReference^ key=2:string optional=3:bool?"
    ),
    "core.v1.ConfigMapList": "metadata=1:meta.v1.ListMeta items=2:*core.v1.ConfigMap",
    "core.v1.ConfigMapProjection": (
        "localObjectReference=1:core.v1.LocalObjectReference^ items=2:*core.v1.KeyToPath optional=4:bool?"
    ),
    "core.v1.ConfigMapVolumeSource": (
        "localObjectReference=1:core.v1.LocalObjectReference^ items=2:*core.v1.KeyToPath"
        " defaultMode=3:int32? optional=4:bool? defaultUser=5:int64?"
    ),
    "core.v1.Container": (
        "name=1:string image=2:string command=3:*string args=4:*string workingDir=5:string"
        " ports=6:*core.v1.ContainerPort envFrom=19:*core.v1.EnvFromSource env=7:*core.v1.EnvVar"
        " resources=8:core.v1.ResourceRequirements resizePolicy=23:*core.v1.ContainerResizePolicy"
        " restartPolicy=24:string restartPolicyRules=25:*core.v1.ContainerRestartRule"
        " volumeMounts=9:*core.v1.VolumeMount volumeDevices=21:*core.v1.VolumeDevice"
        " livenessProbe=10:core.v1.Probe readinessProbe=11:core.v1.Probe startupProbe=22:core.v1.Probe"
        " lifecycle=12:core.v1.Lifecycle terminationMessagePath=13:string"
        " terminationMessagePolicy=20:string imagePullPolicy=14:string"
        " securityContext=15:core.v1.SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool"
    ),
    "core.v1.ContainerExtendedResourceRequest": (
        "containerName=1:string resourceName=2:string requestName=3:string"
    ),
    "core.v1.ContainerPort": (
        "name=1:string hostPort=2:int32 containerPort=3:int32 protocol=4:string hostIP=5:string"
    ),
    "core.v1.ContainerResizePolicy": "resourceName=1:string restartPolicy=2:string",
    "core.v1.ContainerRestartRule": "action=1:string exitCodes=2:core.v1.ContainerRestartRuleOnExitCodes",
    "core.v1.ContainerRestartRuleOnExitCodes": "operator=1:string values=2:*int32",
    "core.v1.ContainerState": (
        "waiting=1:core.v1.ContainerStateWaiting running=2:core.v1.ContainerStateRunning"
        " terminated=3:core.v1.ContainerStateTerminated"
    ),
    "core.v1.ContainerStateRunning": "startedAt=1:meta.v1.Time",
    "core.v1.ContainerStateTerminated": (
        "exitCode=1:int32 signal=2:int32 reason=3:string message=4:string startedAt=5:meta.v1.Time"
        " finishedAt=6:meta.v1.Time containerID=7:string"
    ),
    "core.v1.ContainerStateWaiting": "reason=1:string message=2:string",
    "core.v1.ContainerStatus": (
        "name=1:string state=2:core.v1.ContainerState lastState=3:core.v1.ContainerState ready=4:bool"
        " restartCount=5:int32 image=6:string imageID=7:string containerID=8:string started=9:bool?"
        " allocatedResources=10:map:resource.Quantity resources=11:core.v1.ResourceRequirements"
        " volumeMounts=12:*core.v1.VolumeMountStatus user=13:core.v1.ContainerUser"
        " allocatedResourcesStatus=14:*core.v1.ResourceStatus stopSignal=15:string"
    ),
    "core.v1.ContainerUser": "linux=1:core.v1.LinuxContainerUser",
    "core.v1.DownwardAPIProjection": "items=1:*core.v1.DownwardAPIVolumeFile",
    "core.v1.DownwardAPIVolumeFile": (
        "path=1:string fieldRef=2:core.v1.ObjectFieldSelector"
        " resourceFieldRef=3:core.v1.ResourceFieldSelector mode=4:int32? user=5:int64?"
    ),
    "core.v1.DownwardAPIVolumeSource": (
        "items=1:*core.v1.DownwardAPIVolumeFile defaultMode=2:int32? defaultUser=3:int64?"
    ),
    "core.v1.EmptyDirVolumeSource": "medium=1:string sizeLimit=2:resource.Quantity mode=3:int32?",
    "core.v1.EnvFromSource": (
        "prefix=1:string configMapRef=2:core.v1.ConfigMapEnvSource secretRef=3:core.v1.SecretEnvSource"
    ),
    "core.v1.EnvVar": "name=1:string value=2:string valueFrom=3:core.v1.EnvVarSource",
    "core.v1.EnvVarSource": (
        "fieldRef=1:core.v1.ObjectFieldSelector resourceFieldRef=2:core.v1.ResourceFieldSelector"
        " configMapKeyRef=3:core.v1.ConfigMapKeySelector secretKeyRef=4:core.v1.SecretKeySelector"
        " fileKeyRef=5:core.v1.FileKeySelector"
    ),
    "core.v1.EphemeralContainer": (
        "ephemeralContainerCommon=1:core.v1.EphemeralContainerCommon^ targetContainerName=2:string"
    ),
    "core.v1.EphemeralContainerCommon": (
        "name=1:string image=2:string command=3:*string args=4:*string workingDir=5:string"
        " ports=6:*core.v1.ContainerPort envFrom=19:*core.v1.EnvFromSource env=7:*core.v1.EnvVar"
        " resources=8:core.v1.ResourceRequirements resizePolicy=23:*core.v1.ContainerResizePolicy"
        " restartPolicy=24:string restartPolicyRules=25:*core.v1.ContainerRestartRule"
        " volumeMounts=9:*core.v1.VolumeMount volumeDevices=21:*core.v1.VolumeDevice"
        " livenessProbe=10:core.v1.Probe readinessProbe=11:core.v1.Probe startupProbe=22:core.v1.Probe"
        " lifecycle=12:core.v1.Lifecycle terminationMessagePath=13:string"
        " terminationMessagePolicy=20:string imagePullPolicy=14:string"
        " securityContext=15:core.v1.SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool"
    ),
    "core.v1.EphemeralVolumeSource": "volumeClaimTemplate=1:core.v1.PersistentVolumeClaimTemplate",
    "core.v1.Event": (
        "metadata=1:meta.v1.ObjectMeta involvedObject=2:core.v1.ObjectReference reason=3:string"
        " message=4:string source=5:core.v1.EventSource firstTimestamp=6:meta.v1.Time"
        " lastTimestamp=7:meta.v1.Time count=8:int32 type=9:string eventTime=10:meta.v1.MicroTime"
        " series=11:core.v1.EventSeries action=12:string related=13:core.v1.ObjectReference"
        " reportingComponent=14:string reportingInstance=15:string"
    ),
    "core.v1.EventList": "metadata=1:meta.v1.ListMeta items=2:*core.v1.Event",
    "core.v1.EventSeries": "count=1:int32 lastObservedTime=2:meta.v1.MicroTime",
    "core.v1.EventSource": "component=1:string host=2:string",
    "core.v1.EvictionResponder": "name=1:string priority=2:int32?",
    "core.v1.ExecAction": "command=1:*string",
    "core.v1.FCVolumeSource": (
        "targetWWNs=1:*string lun=2:int32? fsType=3:string readOnly=4:bool wwids=5:*string"
    ),
    "core.v1.FileKeySelector": "volumeName=1:string path=2:string key=3:string optional=4:bool?",
    "core.v1.FlexVolumeSource": (
        "driver=1:string fsType=2:string secretRef=3:core.v1.LocalObjectReference readOnly=4:bool"
        " options=5:map:string"
    ),
    "core.v1.FlockerVolumeSource": "datasetName=1:string datasetUUID=2:string",
    "core.v1.GCEPersistentDiskVolumeSource": (
        "pdName=1:string fsType=2:string partition=3:int32 readOnly=4:bool"
    ),
    "core.v1.GRPCAction": "port=1:int32 service=2:string? mode=3:string",
    "core.v1.GitRepoVolumeSource": "repository=1:string revision=2:string directory=3:string",
    "core.v1.GlusterfsVolumeSource": "endpoints=1:string path=2:string readOnly=3:bool",
    "core.v1.HTTPGetAction": (
        "path=1:string port=2:intstr.IntOrString host=3:string scheme=4:string"
        " httpHeaders=5:*core.v1.HTTPHeader protocol=6:string"
    ),
    "core.v1.HTTPHeader": "name=1:string value=2:string",
    "core.v1.HostAlias": "ip=1:string hostnames=2:*string",
    "core.v1.HostIP": "ip=1:string",
    "core.v1.HostPathVolumeSource": "path=1:string type=2:string",
    "core.v1.ISCSIVolumeSource": (
        "targetPortal=1:string iqn=2:string lun=3:int32 iscsiInterface=4:string fsType=5:string"
        " readOnly=6:bool portals=7:*string chapAuthDiscovery=8:bool chapAuthSession=11:bool"
        " secretRef=10:core.v1.LocalObjectReference initiatorName=12:string?"
    ),
    "core.v1.ImageVolumeSource": "reference=1:string pullPolicy=2:string",
    "core.v1.ImageVolumeStatus": "imageRef=1:string",
    "core.v1.KeyToPath": "key=1:string path=2:string mode=3:int32? user=4:int64?",
    "core.v1.Lifecycle": (
        "postStart=1:core.v1.LifecycleHandler preStop=2:core.v1.LifecycleHandler stopSignal=3:string"
    ),
    "core.v1.LifecycleHandler": (
        "exec=1:core.v1.ExecAction httpGet=2:core.v1.HTTPGetAction tcpSocket=3:core.v1.TCPSocketAction"
        " sleep=4:core.v1.SleepAction"
    ),
    "core.v1.LinuxContainerUser": "uid=1:int64 gid=2:int64 supplementalGroups=3:*int64",
    "core.v1.LoadBalancerIngress": (
        "ip=1:string hostname=2:string ipMode=3:string ports=4:*core.v1.PortStatus"
    ),
    "core.v1.LoadBalancerStatus": "ingress=1:*core.v1.LoadBalancerIngress",
    "core.v1.LocalObjectReference": "name=1:string",
    "core.v1.NFSVolumeSource": "server=1:string path=2:string readOnly=3:bool",
    "core.v1.Namespace": (
        "metadata=1:meta.v1.ObjectMeta spec=2:core.v1.NamespaceSpec status=3:core.v1.NamespaceStatus"
    ),
    "core.v1.NamespaceCondition": (
        "type=1:string status=2:string lastTransitionTime=4:meta.v1.Time reason=5:string message=6:string"
    ),
    "core.v1.NamespaceList": "metadata=1:meta.v1.ListMeta items=2:*core.v1.Namespace",
    "core.v1.NamespaceSpec": "finalizers=1:*string",
    "core.v1.NamespaceStatus": "phase=1:string conditions=2:*core.v1.NamespaceCondition",
    "core.v1.NodeAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution=1:core.v1.NodeSelector"
        " preferredDuringSchedulingIgnoredDuringExecution=2:*core.v1.PreferredSchedulingTerm"
    ),
    "core.v1.NodeAllocatableMappedResources": "name=1:string quantity=2:resource.Quantity",
    "core.v1.NodeAllocatableOverheadResources": (
        "name=1:string perPod=2:resource.Quantity perContainer=3:resource.Quantity"
    ),
    "core.v1.NodeAllocatableResourceClaimStatus": (
        "resourceClaimName=1:string containers=2:*string"
        " mapping=4:*core.v1.NodeAllocatableMappedResources"
        " overhead=5:*core.v1.NodeAllocatableOverheadResources"
    ),
    "core.v1.NodeSelector": "nodeSelectorTerms=1:*core.v1.NodeSelectorTerm",
    "core.v1.NodeSelectorRequirement": "key=1:string operator=2:string values=3:*string",
    "core.v1.NodeSelectorTerm": (
        "matchExpressions=1:*core.v1.NodeSelectorRequirement matchFields=2:*core.v1.NodeSelectorRequirement"
    ),
    "core.v1.ObjectFieldSelector": "apiVersion=1:string fieldPath=2:string",
    "core.v1.ObjectReference": (
        "kind=1:string namespace=2:string name=3:string uid=4:string apiVersion=5:string"
        " resourceVersion=6:string fieldPath=7:string"
    ),
    "core.v1.PersistentVolumeClaimSpec": (
        "accessModes=1:*string selector=4:meta.v1.LabelSelector"
        " resources=2:core.v1.VolumeResourceRequirements volumeName=3:string storageClassName=5:string?"
        " volumeMode=6:string dataSource=7:core.v1.TypedLocalObjectReference"
        " dataSourceRef=8:core.v1.TypedObjectReference volumeAttributesClassName=9:string?"
    ),
    "core.v1.PersistentVolumeClaimTemplate": (
        "metadata=1:meta.v1.ObjectMeta spec=2:core.v1.PersistentVolumeClaimSpec"
    ),
    "core.v1.PersistentVolumeClaimVolumeSource": "claimName=1:string readOnly=2:bool",
    "core.v1.PhotonPersistentDiskVolumeSource": "pdID=1:string fsType=2:string",
    "core.v1.Pod": "metadata=1:meta.v1.ObjectMeta spec=2:core.v1.PodSpec status=3:core.v1.PodStatus",
    "core.v1.PodAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution=1:*core.v1.PodAffinityTerm"
        " preferredDuringSchedulingIgnoredDuringExecution=2:*core.v1.WeightedPodAffinityTerm"
    ),
    "core.v1.PodAffinityTerm": (
        "labelSelector=1:meta.v1.LabelSelector namespaces=2:*string topologyKey=3:string"
        " namespaceSelector=4:meta.v1.LabelSelector matchLabelKeys=5:*string mismatchLabelKeys=6:*string"
    ),
    "core.v1.PodAntiAffinity": (
        "requiredDuringSchedulingIgnoredDuringExecution=1:*core.v1.PodAffinityTerm"
        " preferredDuringSchedulingIgnoredDuringExecution=2:*core.v1.WeightedPodAffinityTerm"
    ),
    "core.v1.PodCertificateProjection": (
        "signerName=1:string keyType=2:string maxExpirationSeconds=3:int32? credentialBundlePath=4:string"
        " keyPath=5:string certificateChainPath=6:string userAnnotations=7:map:string user=8:int64?"
    ),
    "core.v1.PodCondition": (
        "type=1:string observedGeneration=7:int64 status=2:string lastProbeTime=3:meta.v1.Time"
        " lastTransitionTime=4:meta.v1.Time reason=5:string message=6:string"
    ),
    "core.v1.PodDNSConfig": (
        "nameservers=1:*string searches=2:*string options=3:*core.v1.PodDNSConfigOption"
    ),
    "core.v1.PodDNSConfigOption": "name=1:string value=2:string?",
    "core.v1.PodExtendedResourceClaimStatus": (
        "requestMappings=1:*core.v1.ContainerExtendedResourceRequest resourceClaimName=2:string"
    ),
    "core.v1.PodIP": "ip=1:string",
    "core.v1.PodList": "metadata=1:meta.v1.ListMeta items=2:*core.v1.Pod",
    "core.v1.PodOS": "name=1:string",
    "core.v1.PodReadinessGate": "conditionType=1:string",
    "core.v1.PodResourceClaim": (
        "name=1:string resourceClaimName=3:string? resourceClaimTemplateName=4:string?"
    ),
    "core.v1.PodResourceClaimStatus": "name=1:string resourceClaimName=2:string?",
    "core.v1.PodSchedulingGate": "name=1:string",
    "core.v1.PodSchedulingGroup": "podGroupName=1:string?",
    "core.v1.PodSecurityContext": (
        "seLinuxOptions=1:core.v1.SELinuxOptions windowsOptions=8:core.v1.WindowsSecurityContextOptions"
        " runAsUser=2:int64? runAsGroup=6:int64? runAsNonRoot=3:bool? supplementalGroups=4:*int64"
        " supplementalGroupsPolicy=12:string fsGroup=5:int64? sysctls=7:*core.v1.Sysctl"
        " fsGroupChangePolicy=9:string seccompProfile=10:core.v1.SeccompProfile"
        " appArmorProfile=11:core.v1.AppArmorProfile seLinuxChangePolicy=13:string"
    ),
    "core.v1.PodSpec": (
        "volumes=1:*core.v1.Volume initContainers=20:*core.v1.Container containers=2:*core.v1.Container"
        " ephemeralContainers=34:*core.v1.EphemeralContainer restartPolicy=3:string"
        " terminationGracePeriodSeconds=4:int64? activeDeadlineSeconds=5:int64? dnsPolicy=6:string"
        " nodeSelector=7:map:string serviceAccountName=8:string serviceAccount=9:string"
        " automountServiceAccountToken=21:bool? nodeName=10:string hostNetwork=11:bool hostPID=12:bool"
        " hostIPC=13:bool shareProcessNamespace=27:bool? securityContext=14:core.v1.PodSecurityContext"
        " imagePullSecrets=15:*core.v1.LocalObjectReference hostname=16:string subdomain=17:string"
        " affinity=18:core.v1.Affinity schedulerName=19:string tolerations=22:*core.v1.Toleration"
        " hostAliases=23:*core.v1.HostAlias priorityClassName=24:string priority=25:int32?"
        " dnsConfig=26:core.v1.PodDNSConfig readinessGates=28:*core.v1.PodReadinessGate"
        " runtimeClassName=29:string? enableServiceLinks=30:bool? preemptionPolicy=31:string"
        " overhead=32:map:resource.Quantity topologySpreadConstraints=33:*core.v1.TopologySpreadConstraint"
        " setHostnameAsFQDN=35:bool? os=36:core.v1.PodOS hostUsers=37:bool?"
        " schedulingGates=38:*core.v1.PodSchedulingGate resourceClaims=39:*core.v1.PodResourceClaim"
        " resources=40:core.v1.ResourceRequirements hostnameOverride=41:string?"
        " schedulingGroup=43:core.v1.PodSchedulingGroup evictionResponders=44:*core.v1.EvictionResponder"
    ),
    "core.v1.PodStatus": (
        "observedGeneration=17:int64 phase=1:string conditions=2:*core.v1.PodCondition message=3:string"
        " reason=4:string nominatedNodeName=11:string hostIP=5:string hostIPs=16:*core.v1.HostIP"
        " podIP=6:string podIPs=12:*core.v1.PodIP startTime=7:meta.v1.Time"
        " initContainerStatuses=10:*core.v1.ContainerStatus containerStatuses=8:*core.v1.ContainerStatus"
        " qosClass=9:string ephemeralContainerStatuses=13:*core.v1.ContainerStatus resize=14:string"
        " resourceClaimStatuses=15:*core.v1.PodResourceClaimStatus"
        " extendedResourceClaimStatus=18:core.v1.PodExtendedResourceClaimStatus"
        " allocatedResources=19:map:resource.Quantity resources=20:core.v1.ResourceRequirements"
        " nodeAllocatableResourceClaimStatuses=21:*core.v1.NodeAllocatableResourceClaimStatus"
        " volumeHealth=22:*core.v1.PodVolumeHealth"
    ),
    "core.v1.PodTemplateSpec": "metadata=1:meta.v1.ObjectMeta spec=2:core.v1.PodSpec",
    "core.v1.PodVolumeHealth": (
        "name=1:string healthConditions=2:*core.v1.VolumeHealthCondition lastTransitionTime=3:meta.v1.Time"
    ),
    "core.v1.PortStatus": "port=1:int32 protocol=2:string error=3:string?",
    "core.v1.PortworxVolumeSource": "volumeID=1:string fsType=2:string readOnly=3:bool",
    "core.v1.PreferredSchedulingTerm": "weight=1:int32 preference=2:core.v1.NodeSelectorTerm",
    "core.v1.Probe": (
        "handler=1:core.v1.ProbeHandler^ initialDelaySeconds=2:int32 timeoutSeconds=3:int32"
        " periodSeconds=4:int32 successThreshold=5:int32 failureThreshold=6:int32"
        " terminationGracePeriodSeconds=7:int64?"
    ),
    "core.v1.ProbeHandler": (
        "exec=1:core.v1.ExecAction httpGet=2:core.v1.HTTPGetAction tcpSocket=3:core.v1.TCPSocketAction"
        " grpc=4:core.v1.GRPCAction"
    ),
    "core.v1.ProjectedVolumeSource": (
        "sources=1:*core.v1.VolumeProjection defaultMode=2:int32? defaultUser=3:int64?"
    ),
    "core.v1.QuobyteVolumeSource": (
        "registry=1:string volume=2:string readOnly=3:bool user=4:string group=5:string tenant=6:string"
    ),
    "core.v1.RBDVolumeSource": (
        "monitors=1:*string image=2:string fsType=3:string pool=4:string user=5:string keyring=6:string"
        " secretRef=7:core.v1.LocalObjectReference readOnly=8:bool"
    ),
    "core.v1.ResourceClaim": "name=1:string request=2:string",
    "core.v1.ResourceFieldSelector": ("containerName=1:string resource=2:string divisor=3:resource.Quantity"),
    "core.v1.ResourceHealth": "resourceID=1:string health=2:string message=6:string?",
    "core.v1.ResourceRequirements": (
        "limits=1:map:resource.Quantity requests=2:map:resource.Quantity claims=3:*core.v1.ResourceClaim"
    ),
    "core.v1.ResourceStatus": "name=1:string resources=2:*core.v1.ResourceHealth",
    "core.v1.SELinuxOptions": "user=1:string role=2:string type=3:string level=4:string",
    "core.v1.ScaleIOVolumeSource": (
        "gateway=1:string system=2:string secretRef=3:core.v1.LocalObjectReference sslEnabled=4:bool"
        " protectionDomain=5:string storagePool=6:string storageMode=7:string volumeName=8:string"
        " fsType=9:string readOnly=10:bool"
    ),
    "core.v1.SeccompProfile": "type=1:string localhostProfile=2:string?",
    "core.v1.Secret": (
        "metadata=1:meta.v1.ObjectMeta immutable=5:bool? data=2:map:bytes stringData=4:map:string"
        " type=3:string"
    ),
    "core.v1.SecretEnvSource": "localObjectReference=1:core.v1.LocalObjectReference^ optional=2:bool?",
    "core.v1.SecretKeySelector": (
        "localObjectReference=1:core.v1.LocalObjectReference^ key=2:string optional=3:bool?"
    ),
    "core.v1.SecretList": "metadata=1:meta.v1.ListMeta items=2:*core.v1.Secret",
    "core.v1.SecretProjection": (
        "localObjectReference=1:core.v1.LocalObjectReference^ items=2:*core.v1.KeyToPath optional=4:bool?"
    ),
    "core.v1.SecretVolumeSource": (
        "secretName=1:string items=2:*core.v1.KeyToPath defaultMode=3:int32? optional=4:bool?"
        " defaultUser=5:int64?"
    ),
    "core.v1.SecurityContext": (
        "capabilities=1:core.v1.Capabilities privileged=2:bool? seLinuxOptions=3:core.v1.SELinuxOptions"
        " windowsOptions=10:core.v1.WindowsSecurityContextOptions runAsUser=4:int64? runAsGroup=8:int64?"
        " runAsNonRoot=5:bool? readOnlyRootFilesystem=6:bool? allowPrivilegeEscalation=7:bool?"
        " procMount=9:string seccompProfile=11:core.v1.SeccompProfile"
        " appArmorProfile=12:core.v1.AppArmorProfile"
    ),
    "core.v1.Service": (
        "metadata=1:meta.v1.ObjectMeta spec=2:core.v1.ServiceSpec status=3:core.v1.ServiceStatus"
    ),
    "core.v1.ServiceAccount": (
        "metadata=1:meta.v1.ObjectMeta secrets=2:*core.v1.ObjectReference"
        " imagePullSecrets=3:*core.v1.LocalObjectReference automountServiceAccountToken=4:bool?"
    ),
    "core.v1.ServiceAccountList": "metadata=1:meta.v1.ListMeta items=2:*core.v1.ServiceAccount",
    "core.v1.ServiceAccountTokenProjection": (
        "audience=1:string expirationSeconds=2:int64? path=3:string user=4:int64?"
    ),
    "core.v1.ServiceList": "metadata=1:meta.v1.ListMeta items=2:*core.v1.Service",
    "core.v1.ServicePort": (
        "name=1:string protocol=2:string appProtocol=6:string? port=3:int32"
        " targetPort=4:intstr.IntOrString nodePort=5:int32"
    ),
    "core.v1.ServiceSpec": (
        "ports=1:*core.v1.ServicePort selector=2:map:string clusterIP=3:string clusterIPs=18:*string"
        " type=4:string externalIPs=5:*string sessionAffinity=7:string loadBalancerIP=8:string"
        " loadBalancerSourceRanges=9:*string externalName=10:string externalTrafficPolicy=11:string"
        " healthCheckNodePort=12:int32 publishNotReadyAddresses=13:bool"
        " sessionAffinityConfig=14:core.v1.SessionAffinityConfig ipFamilies=19:*string"
        " ipFamilyPolicy=17:string allocateLoadBalancerNodePorts=20:bool? loadBalancerClass=21:string?"
        " internalTrafficPolicy=22:string trafficDistribution=23:string?"
    ),
    "core.v1.ServiceStatus": "loadBalancer=1:core.v1.LoadBalancerStatus conditions=2:*meta.v1.Condition",
    "core.v1.SessionAffinityConfig": "clientIP=1:core.v1.ClientIPConfig",
    "core.v1.SleepAction": "seconds=1:int64",
    "core.v1.StorageOSVolumeSource": (
        "volumeName=1:string volumeNamespace=2:string fsType=3:string readOnly=4:bool"
        " secretRef=5:core.v1.LocalObjectReference"
    ),
    "core.v1.Sysctl": "name=1:string value=2:string",
    "core.v1.TCPSocketAction": "port=1:intstr.IntOrString host=2:string",
    "core.v1.Toleration": (
        "key=1:string operator=2:string value=3:string effect=4:string tolerationSeconds=5:int64?"
    ),
    "core.v1.TopologySpreadConstraint": (
        "maxSkew=1:int32 topologyKey=2:string whenUnsatisfiable=3:string"
        " labelSelector=4:meta.v1.LabelSelector minDomains=5:int32? nodeAffinityPolicy=6:string"
        " nodeTaintsPolicy=7:string matchLabelKeys=8:*string"
    ),
    "core.v1.TypedLocalObjectReference": "apiGroup=1:string? kind=2:string name=3:string",
    "core.v1.TypedObjectReference": "apiGroup=1:string? kind=2:string name=3:string namespace=4:string?",
    "core.v1.Volume": "name=1:string volumeSource=2:core.v1.VolumeSource^",
    "core.v1.VolumeDevice": "name=1:string devicePath=2:string",
    "core.v1.VolumeHealthCondition": "status=1:string reason=2:string message=3:string",
    "core.v1.VolumeMount": (
        "name=1:string readOnly=2:bool recursiveReadOnly=7:string mountPath=3:string subPath=4:string"
        " mountPropagation=5:string subPathExpr=6:string bindMountOptions=8:*string"
    ),
    "core.v1.VolumeMountStatus": (
        "name=1:string mountPath=2:string readOnly=3:bool recursiveReadOnly=4:string"
        " volumeStatus=5:core.v1.VolumeStatus"
    ),
    "core.v1.VolumeProjection": (
        "secret=1:core.v1.SecretProjection downwardAPI=2:core.v1.DownwardAPIProjection"
        " configMap=3:core.v1.ConfigMapProjection"
        " serviceAccountToken=4:core.v1.ServiceAccountTokenProjection"
        " clusterTrustBundle=5:core.v1.ClusterTrustBundleProjection"
        " podCertificate=6:core.v1.PodCertificateProjection"
    ),
    "core.v1.VolumeResourceRequirements": ("limits=1:map:resource.Quantity requests=2:map:resource.Quantity"),
    "core.v1.VolumeSource": (
        "hostPath=1:core.v1.HostPathVolumeSource emptyDir=2:core.v1.EmptyDirVolumeSource"
        " gcePersistentDisk=3:core.v1.GCEPersistentDiskVolumeSource"
        " awsElasticBlockStore=4:core.v1.AWSElasticBlockStoreVolumeSource"
        " gitRepo=5:core.v1.GitRepoVolumeSource secret=6:core.v1.SecretVolumeSource"
        " nfs=7:core.v1.NFSVolumeSource iscsi=8:core.v1.ISCSIVolumeSource"
        " glusterfs=9:core.v1.GlusterfsVolumeSource"
        " persistentVolumeClaim=10:core.v1.PersistentVolumeClaimVolumeSource"
        " rbd=11:core.v1.RBDVolumeSource flexVolume=12:core.v1.FlexVolumeSource"
        " cinder=13:core.v1.CinderVolumeSource cephfs=14:core.v1.CephFSVolumeSource"
        " flocker=15:core.v1.FlockerVolumeSource downwardAPI=16:core.v1.DownwardAPIVolumeSource"
        " fc=17:core.v1.FCVolumeSource azureFile=18:core.v1.AzureFileVolumeSource"
        " configMap=19:core.v1.ConfigMapVolumeSource"
        " vsphereVolume=20:core.v1.VsphereVirtualDiskVolumeSource quobyte=21:core.v1.QuobyteVolumeSource"
        " azureDisk=22:core.v1.AzureDiskVolumeSource"
        " photonPersistentDisk=23:core.v1.PhotonPersistentDiskVolumeSource"
        " projected=26:core.v1.ProjectedVolumeSource portworxVolume=24:core.v1.PortworxVolumeSource"
        " scaleIO=25:core.v1.ScaleIOVolumeSource storageos=27:core.v1.StorageOSVolumeSource"
        " csi=28:core.v1.CSIVolumeSource ephemeral=29:core.v1.EphemeralVolumeSource"
        " image=30:core.v1.ImageVolumeSource"
    ),
    "core.v1.VolumeStatus": "image=1:core.v1.ImageVolumeStatus",
    "core.v1.VsphereVirtualDiskVolumeSource": (
        "volumePath=1:string fsType=2:string storagePolicyName=3:string storagePolicyID=4:string"
    ),
    "core.v1.WeightedPodAffinityTerm": "weight=1:int32 podAffinityTerm=2:core.v1.PodAffinityTerm",
    "core.v1.WindowsSecurityContextOptions": (
        "gmsaCredentialSpecName=1:string? gmsaCredentialSpec=2:string? runAsUserName=3:string?"
        " hostProcess=4:bool?"
    ),
    "events.v1.Event": (
        "metadata=1:meta.v1.ObjectMeta eventTime=2:meta.v1.MicroTime series=3:events.v1.EventSeries"
        " reportingController=4:string reportingInstance=5:string action=6:string reason=7:string"
        " regarding=8:core.v1.ObjectReference related=9:core.v1.ObjectReference note=10:string"
        " type=11:string deprecatedSource=12:core.v1.EventSource deprecatedFirstTimestamp=13:meta.v1.Time"
        " deprecatedLastTimestamp=14:meta.v1.Time deprecatedCount=15:int32"
    ),
    "events.v1.EventSeries": "count=1:int32 lastObservedTime=2:meta.v1.MicroTime",
    "intstr.IntOrString": "type=1:int64 intVal=2:int32 strVal=3:string",
    "meta.v1.Condition": (
        "type=1:string status=2:string observedGeneration=3:int64 lastTransitionTime=4:meta.v1.Time"
        " reason=5:string message=6:string"
    ),
    "meta.v1.DeleteOptions": (
        "gracePeriodSeconds=1:int64? preconditions=2:meta.v1.Preconditions orphanDependents=3:bool?"
        " propagationPolicy=4:string dryRun=5:*string"
        " ignoreStoreReadErrorWithClusterBreakingPotential=6:bool?"
    ),
    "meta.v1.FieldSelectorRequirement": "key=1:string operator=2:string values=3:*string",
    "meta.v1.FieldsV1": "Raw=1:bytes",
    "meta.v1.LabelSelector": (
        "matchLabels=1:map:string matchExpressions=2:*meta.v1.LabelSelectorRequirement"
    ),
    "meta.v1.LabelSelectorRequirement": "key=1:string operator=2:string values=3:*string",
    "meta.v1.ListMeta": (
        "selfLink=1:string resourceVersion=2:string continue=3:string remainingItemCount=4:int64?"
        " shardInfo=5:meta.v1.ShardInfo"
    ),
    "meta.v1.ManagedFieldsEntry": (
        "manager=1:string operation=2:string apiVersion=3:string time=4:meta.v1.Time fieldsType=6:string"
        " fieldsV1=7:meta.v1.FieldsV1 subresource=8:string"
    ),
    "meta.v1.MicroTime": "seconds=1:int64 nanos=2:int32",
    "meta.v1.ObjectMeta": (
        "name=1:string generateName=2:string namespace=3:string selfLink=4:string uid=5:string"
        " resourceVersion=6:string generation=7:int64 creationTimestamp=8:meta.v1.Time"
        " deletionTimestamp=9:meta.v1.Time deletionGracePeriodSeconds=10:int64? labels=11:map:string"
        " annotations=12:map:string ownerReferences=13:*meta.v1.OwnerReference finalizers=14:*string"
        " managedFields=17:*meta.v1.ManagedFieldsEntry"
    ),
    "meta.v1.OwnerReference": (
        "apiVersion=5:string kind=1:string name=3:string uid=4:string controller=6:bool?"
        " blockOwnerDeletion=7:bool?"
    ),
    "meta.v1.Preconditions": "uid=1:string resourceVersion=2:string?",
    "meta.v1.ShardInfo": "selector=1:string",
    "meta.v1.Status": (
        "metadata=1:meta.v1.ListMeta status=2:string message=3:string reason=4:string"
        " details=5:meta.v1.StatusDetails code=6:int32"
    ),
    "meta.v1.StatusCause": "reason=1:string message=2:string field=3:string",
    "meta.v1.StatusDetails": (
        "name=1:string group=2:string kind=3:string uid=6:string causes=4:*meta.v1.StatusCause"
        " retryAfterSeconds=5:int32"
    ),
    "meta.v1.Time": "seconds=1:int64 nanos=2:int32",
    "meta.v1.WatchEvent": "type=1:string object=2:runtime.RawExtension",
    "rbac.v1.AggregationRule": "clusterRoleSelectors=1:*meta.v1.LabelSelector",
    "rbac.v1.ClusterRole": (
        "metadata=1:meta.v1.ObjectMeta rules=2:*rbac.v1.PolicyRule aggregationRule=3:rbac.v1.AggregationRule"
    ),
    "rbac.v1.ClusterRoleBinding": (
        "metadata=1:meta.v1.ObjectMeta subjects=2:*rbac.v1.Subject roleRef=3:rbac.v1.RoleRef"
    ),
    "rbac.v1.ClusterRoleBindingList": "metadata=1:meta.v1.ListMeta items=2:*rbac.v1.ClusterRoleBinding",
    "rbac.v1.ClusterRoleList": "metadata=1:meta.v1.ListMeta items=2:*rbac.v1.ClusterRole",
    "rbac.v1.PolicyRule": (
        "verbs=1:*string apiGroups=2:*string resources=3:*string resourceNames=4:*string"
        " nonResourceURLs=5:*string"
    ),
    "rbac.v1.Role": "metadata=1:meta.v1.ObjectMeta rules=2:*rbac.v1.PolicyRule",
    "rbac.v1.RoleBinding": (
        "metadata=1:meta.v1.ObjectMeta subjects=2:*rbac.v1.Subject roleRef=3:rbac.v1.RoleRef"
    ),
    "rbac.v1.RoleBindingList": "metadata=1:meta.v1.ListMeta items=2:*rbac.v1.RoleBinding",
    "rbac.v1.RoleList": "metadata=1:meta.v1.ListMeta items=2:*rbac.v1.Role",
    "rbac.v1.RoleRef": "apiGroup=1:string kind=2:string name=3:string",
    "rbac.v1.Subject": "kind=1:string apiGroup=2:string name=3:string namespace=4:string",
    "resource.Quantity": "string=1:string",
    "runtime.RawExtension": "raw=1:bytes",
    "runtime.TypeMeta": "apiVersion=1:string kind=2:string",
    "runtime.Unknown": (
        "typeMeta=1:runtime.TypeMeta^ raw=2:bytes contentEncoding=3:string contentType=4:string"
    ),
    "scheduling.v1alpha3.TopologyConstraint": "key=1:string",
    "scheduling.v1alpha3.WorkloadPodGroupAllDisruptionMode": "",
    "scheduling.v1alpha3.WorkloadPodGroupBasicSchedulingPolicy": "",
    "scheduling.v1alpha3.WorkloadPodGroupDisruptionMode": (
        "single=1:scheduling.v1alpha3.WorkloadPodGroupSingleDisruptionMode"
        " all=2:scheduling.v1alpha3.WorkloadPodGroupAllDisruptionMode"
    ),
    "scheduling.v1alpha3.WorkloadPodGroupGangSchedulingPolicy": "minCount=1:int32?",
    "scheduling.v1alpha3.WorkloadPodGroupResourceClaim": (
        "name=1:string resourceClaimName=2:string? resourceClaimTemplateName=3:string?"
    ),
    "scheduling.v1alpha3.WorkloadPodGroupSchedulingConstraints": (
        "topology=1:*scheduling.v1alpha3.TopologyConstraint"
    ),
    "scheduling.v1alpha3.WorkloadPodGroupSchedulingPolicy": (
        "basic=1:scheduling.v1alpha3.WorkloadPodGroupBasicSchedulingPolicy"
        " gang=2:scheduling.v1alpha3.WorkloadPodGroupGangSchedulingPolicy"
    ),
    "scheduling.v1alpha3.WorkloadPodGroupSingleDisruptionMode": "",
}
