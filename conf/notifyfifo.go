package conf

import "path/filepath"

// notifyFIFO checks global notify_fifo: an absolute path.
func (v *validator) notifyFIFO(g *rawGlobal) {
	if g.b.has("notify_fifo") && !filepath.IsAbs(g.notifyFIFO) {
		v.errorf(g.b.at("notify_fifo"), "Invalid notify_fifo", "%q is not an absolute path.", g.notifyFIFO)
	}
}
