// Routing and the request's life inside the server: pick the virtual server by Host and
// the location by URI (nginx's rules), then apply return, try_files, index, the static
// handler, error_page and add_header/expires, following internal redirects.
#pragma once

#include "http/exchange.hpp"

namespace riptide::http {

class Router {
public:
    // Answers ex.r completely into the connection's output.
    static void handle(Exchange& ex);
    // Picks the server for the request (by Host, on the connection's listen address).
    static void select_server(Exchange& ex);
    // An error status for the current exchange, through error_page when configured.
    static void finish_error(Exchange& ex, int status, std::string_view extra_headers = {});

private:
    static void run(Exchange& ex);
    static void internal_redirect(Exchange& ex, std::string_view uri_with_args);
    static void do_return(Exchange& ex, const config::ReturnConfig& ret);
    static void do_try_files(Exchange& ex, const config::TryFilesConfig& tf);
};

}  // namespace riptide::http
