package conf

import "github.com/havsd/havsd/track"

// keepalived's FILE_CHECK: a real server follows a track_file, as a
// vrrp_instance does, with a track_file block of its own:
//
//	real_server "10.0.0.1" {
//	  track_file "maint" { weight = 10 }
//	}
//
// The file's value × weight is added to the server's weight; with weight 0
// a non-zero value holds the server down. reverse turns both around.

// maxFileCheckWeight bounds a FILE_CHECK weight: the value × weight is
// added to an IPVS weight (0-65535 in havsd).
const maxFileCheckWeight = 65535

// fileChecks checks the track_file blocks of every real server and gives
// each the weight and reverse of its track_file unless it sets its own.
func (v *validator) fileChecks(f *rawFile, names []string) {
	files := map[string]*rawTrackFile{}
	for _, t := range f.trackFiles {
		if files[t.name] == nil {
			files[t.name] = t
		}
	}
	for _, s := range f.services {
		for _, r := range s.reals {
			seen := map[string]bool{}
			for i := range r.trackFiles {
				ref := &r.trackFiles[i]
				switch tf := files[ref.name]; {
				case tf == nil:
					v.errorf(ref.b.labelAt(), "Unknown track_file", "No track_file is named %q.%s", ref.name, didYouMean(ref.name, names))
				case seen[ref.name]:
					v.errorf(ref.b.labelAt(), "Duplicate track_file", "track_file %q is already tracked by this real server.", ref.name)
				default:
					if !ref.hasWeight {
						ref.weight = tf.weight
					}
					if !ref.hasRev {
						ref.reverse = tf.reverse
					}
				}
				seen[ref.name] = true
				if ref.hasWeight && (ref.weight < -maxFileCheckWeight || ref.weight > maxFileCheckWeight) {
					v.errorf(ref.b.at("weight"), "Invalid weight", "A real server's track_file weight is %d to %d (value × weight is added to the server's weight; 0: down while the value is not 0), not %d.", -maxFileCheckWeight, maxFileCheckWeight, ref.weight)
				}
			}
		}
	}
}

// compileFileChecks returns a real server's track_file uses, resolved by
// fileChecks.
func compileFileChecks(refs []rawTrackRef) []track.Ref {
	var out []track.Ref
	for _, r := range refs {
		out = append(out, track.Ref{Key: track.Key{Kind: track.KindFile, Name: r.name}, Weight: int(r.weight), Reverse: r.reverse})
	}
	return out
}
