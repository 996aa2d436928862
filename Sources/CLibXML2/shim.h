/* libxml2 for FirstContactIngest's XML layer (Sources/FirstContactIngest/XML), and nothing else. */
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU, so <libxml/encoding.h> would pull in the system ICU
   headers, which clash with Foundation's _FoundationICU in any module importing both. Only two
   trailing fields of xmlCharEncodingHandler disappear, and Swift never allocates that struct. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/SAX2.h>
/* xmlFree is a global function-pointer variable, which Swift 6 refuses as shared mutable state. */
static inline void fc_xmlFree(void *p) { xmlFree(p); }
