// The one translation unit that compiles Asio, Asio-SSL and Beast (every module is built with
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION), so their implementation is
// compiled once instead of in every file that includes them.

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
