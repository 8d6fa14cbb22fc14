// The checks of a successful result's payload against the model (internal to the model):
// handles, attributes, read data, symlink targets and directory pages.
#pragma once

#include <string>
#include <vector>

#include "model/semantics.h"
#include "model/state.h"
#include "ops/ops.h"

namespace ovl::model {

// `handle`, returned for `obj`, must be the handle `obj` always had (handle-changed) and no
// other object's (handle-reused); binds it on first sight. Returns false when it broke a rule.
bool CheckHandle(State& s, ObjId obj, const std::string& handle, std::vector<Issue>* issues);

// Attributes reported for `obj`: type, fileid (stable), nlink and size of files, mode (MAY).
// Narrows a file's possible contents to the sizes that fit. `sweep`: they answer a corrupted
// copy of a held handle; a fileid the server last reported for `obj` otherwise is obj's own
// (any fileid-changed of it was reported by that operation), and they do not become the last.
void CheckAttrs(State& s, ObjId obj, const ops::Attrs& attrs, bool sweep,
                std::vector<Issue>* issues);

// READ of `obj` at op.offset returning `r`'s data; narrows the possible contents.
void CheckRead(State& s, ObjId obj, const ops::Op& op, const ops::Result& r,
               std::vector<Issue>* issues);

// One READDIR page of `dir`: no duplicates within a listing, no names that never existed, and
// at EOF no name that was present throughout the listing missing.
void CheckReaddir(State& s, ObjId dir, const ops::Op& op, const ops::Result& r,
                  std::vector<Issue>* issues);

// "ok, fileid 12, 412 bytes, digest 0123456789abcdef - that is the data of d/b": a success
// the model did not allow, with whatever identifies what the server answered about.
std::string DescribeOk(const State& s, const ops::Op& op, const ops::Result& r);

}  // namespace ovl::model
