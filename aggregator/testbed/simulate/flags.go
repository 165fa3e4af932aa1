package simulate

// Flag names of the simulation's settings, as the simulate command registers
// them; messages about a setting name its flag.
const (
	// Run's own settings.
	FlagSeed          = "sim.seed"
	FlagCount         = "sim.count"
	FlagStatsInterval = "sim.stats-interval"
	FlagListen        = "pull.listen"
	FlagWorkers       = "push.workers"

	// The world.
	FlagApps      = "sim.apps"
	FlagCampaigns = "sim.campaigns"
	FlagSkew      = "sim.skew"

	// The traffic.
	FlagRate           = "sim.rate"
	FlagInstallShare   = "sim.install-share"
	FlagDuplicateShare = "sim.duplicate-share"
	FlagLateShare      = "sim.late-share"
	FlagMalformedShare = "sim.malformed-share"
	FlagDropShare      = "sim.drop-share"
	FlagMaxDelay       = "sim.max-delay"
	FlagLateMin        = "sim.late-min"
	FlagLateMax        = "sim.late-max"
	FlagDuplicateDelay = "sim.duplicate-delay"
	FlagPriorUsers     = "sim.prior-users"
	FlagUsers          = "sim.users"

	// The fake Pull API.
	FlagPullToken       = "pull.token"
	FlagQuota           = "pull.quota"
	FlagRowCap          = "pull.row-cap"
	FlagDirect          = "pull.direct"
	FlagDownloadBaseURL = "pull.download-base-url"
	FlagDownloadTTL     = "pull.download-ttl"
	FlagSlowDelay       = "pull.slow-delay"
	FlagErrorStatus     = "pull.error-status"

	// The push emitter.
	FlagPushURL           = "push.url"
	FlagPushMethod        = "push.method"
	FlagPushToken         = "push.token"
	FlagPushTokenHeader   = "push.token-header"
	FlagPushTyped         = "push.typed"
	FlagPushRetries       = "push.retries"
	FlagPushRetryInterval = "push.retry-interval"
	FlagPushTimeout       = "push.timeout"
)
