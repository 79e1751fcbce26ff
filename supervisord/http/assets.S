/* assets.S — the web page's files (web/), in the program's read-only data: for each, its
 * bytes and their number (web.c).  The paths are from the top of the source tree, where
 * make runs. */
        .macro asset name, file
        .section .rodata
        .global web_\name
        .type web_\name, @object
        .balign 16
web_\name:
        .incbin "\file"
web_\name\()_end:
        .size web_\name, web_\name\()_end - web_\name
        .global web_\name\()_size
        .type web_\name\()_size, @object
        .balign 8
web_\name\()_size:
        .quad web_\name\()_end - web_\name
        .size web_\name\()_size, 8
        .endm

        asset index_html, "supervisord/http/web/index.html"
        asset tail_html, "supervisord/http/web/tail.html"
        asset css, "supervisord/http/web/supervisord.css"
        asset js, "supervisord/http/web/supervisord.js"

        .section .note.GNU-stack, "", @progbits
