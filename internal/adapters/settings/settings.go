// Package settings owns how a plug-in (a kind of broker, a payment provider) reads the service's
// configuration: by the keys it names itself (the environment names, such as WOLFIX_NATS_URL), so
// the configuration never lists what each plug-in needs, and the registries report the keys a
// plug-in requires that are left empty.
package settings

// Settings is the service's configuration as a plug-in reads it: Setting returns the value of a
// setting by its key, "" when it is unset.
type Settings interface {
	Setting(key string) string
}

// Map is Settings held in a map.
type Map map[string]string

// Setting returns m[key].
func (m Map) Setting(key string) string { return m[key] }

// Missing returns the keys of required that s leaves empty, in their order.
func Missing(s Settings, required []string) []string {
	var missing []string
	for _, key := range required {
		if s.Setting(key) == "" {
			missing = append(missing, key)
		}
	}
	return missing
}
