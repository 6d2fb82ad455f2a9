// Package conf loads havsd's HCL configuration, validates it in a separate
// pass that reports every problem with its source range, compiles it to the
// typed models of vrrp, lvs and checks, and says what changed between two
// configurations.
package conf
