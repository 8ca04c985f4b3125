"""One writer per official layout: ``write(out, spec, *, identities, cameras, seed) -> list[Shot]``."""

from flowprep.synth.layouts import duke, ilidsvid, lsvid, mars, mevid, prid

WRITERS = {"mars": mars.write, "duke": duke.write, "ilidsvid": ilidsvid.write, "prid": prid.write,
           "mevid": mevid.write, "lsvid": lsvid.write}
