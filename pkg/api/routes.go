package api

import "net/http"

// route is one endpoint of the API. The table is data so that the OpenAPI
// test can check openapi.yaml against it.
type route struct {
	method  string
	path    string // Go ServeMux pattern path, the same as the OpenAPI path
	summary string
	serve   func(h *handler, w http.ResponseWriter, r *http.Request) error
}

// routes lists every endpoint the handler serves.
func routes() []route {
	rs := []route{
		{"GET", "/v1/system", "Describe the machine", (*handler).system},
		{"GET", "/v1/services", "List services", (*handler).services},
		{"POST", "/v1/services", "Add a service kept on ROS_STATE", (*handler).addService},
		{"GET", "/v1/services/{name}", "Inspect a service", (*handler).service},
		{"DELETE", "/v1/services/{name}", "Remove an added service", (*handler).removeService},
		{"GET", "/v1/services/{name}/logs", "Stream a service's log", (*handler).logs},
		{"POST", "/v1/services/{name}/exec", "Run a command in a service's container", (*handler).exec},
		{"GET", "/v1/config", "Export the running configuration", (*handler).config},
		{"GET", "/v1/config/get", "Get the value at a dotted key", (*handler).configGet},
		{"POST", "/v1/config/set", "Set a dotted key and apply", (*handler).configSet},
		{"POST", "/v1/config/merge", "Merge user-data and apply", (*handler).configMerge},
		{"POST", "/v1/config/validate", "Validate user-data", (*handler).configValidate},
		{"GET", "/v1/config/history", "List applied and rejected configurations", (*handler).configHistory},
		{"GET", "/v1/events", "List events", (*handler).events},
		{"GET", "/v1/engines", "List user container engines", (*handler).engines},
		{"POST", "/v1/engines/{name}/switch", "Switch the user container engine", (*handler).switchEngine},
		{"GET", "/v1/os", "Describe the A/B slots and the upgrade history", (*handler).osStatus},
		{"GET", "/v1/os/versions", "List the versions a channel offers", (*handler).osVersions},
		{"POST", "/v1/os/upgrade", "Upgrade the OS (NDJSON progress)", (*handler).osUpgrade},
		{"POST", "/v1/os/rollback", "Boot the other slot on trial", (*handler).osRollback},
		{"POST", "/v1/os/install", "Install the running OS to a disk (NDJSON progress)", (*handler).osInstall},
	}
	for _, action := range Actions {
		rs = append(rs, route{"POST", "/v1/services/{name}/" + action, action + " a service", actionHandler(action)})
	}
	return rs
}

func actionHandler(action string) func(h *handler, w http.ResponseWriter, r *http.Request) error {
	return func(h *handler, w http.ResponseWriter, r *http.Request) error {
		if err := h.b.ServiceAction(r.Context(), r.PathValue("name"), action); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
