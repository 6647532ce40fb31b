// One vocabulary: the DID types the plan uses are the lake's.
global using DidKind = FdrHarness.Core.Planning.DidKind;
