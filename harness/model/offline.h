// The effect of an offline edit (ops/offline.h) on the model's merged view, as overlayfs with
// index=on shows it once it is mounted again (Documentation/filesystems/overlayfs.rst, "Changes
// to underlying filesystems"; docs/scenarios.md, "Offline edits"):
//
//   remove-upper P   P shows the lower file at P again (same object: its origin), with the
//                    fixture's data and mode; without a lower P, P is gone
//   rename-lower P Q the lower subtree's names move from P to Q
//   remove-lower P   the lower subtree is gone: its objects lose those names
//   link-lower P Q   Q is another name of P's object (nlink + 1), with the object's data
//   copy-layers      names and data stay; handles and fileids may change
//   copy-up-unindexed P  names and data stay; P and its ancestors are upper dirs now. A handle
//                    held across it of P, an ancestor or an object below P may fail (its lower
//                    origin is no longer reached through an index); one saved afterwards must
//                    not (fstests overlay/054: the server encodes such objects decodably),
//                    though its bytes may differ from the old handle's
//
// Every object an edit touched is marked offline_touched: a held handle of it may then get an
// error (STALE), and a success must be that same object with its current data. The model
// follows an edit only where it knows what overlayfs shows: a lower subtree the union never
// changed, a destination name the union never held. Elsewhere ApplyOffline says why not and
// the case is UNRESOLVED (never guessed).
#pragma once

#include "base/status.h"
#include "model/state.h"
#include "ops/offline.h"

namespace ovl::model {

// Applies `edit` to `s`. EINVAL naming the reason when the model cannot follow it (s may then
// be partly changed; the judge stops judging the case).
Status ApplyOffline(State& s, const ops::OfflineEdit& edit);

}  // namespace ovl::model
