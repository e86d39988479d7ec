@_exported import PedigreeFormats
@_exported import PedigreeEngine
@_exported import PedigreeReport
