namespace FdrHarness.Core; public static class Placeholder {}
