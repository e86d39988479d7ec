#include "pdg_libraries.h"
