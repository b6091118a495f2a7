// model.summary() in tf.keras 2.12's exact text (see
// tests/fixtures/keras/NOTES.md): fixed column positions, over-long fields
// wrapped onto continuation lines, preferring to break after "),", "},",
// "]," or "',", a line of spaces after every layer.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cnn/nn/layers.h"
#include "cnn/nn/model.h"
#include "nn/nested_layout.h"

namespace cnn::nn {

namespace {

// 61706 -> "61,706", as Python's "{:,}" formats it.
std::string with_commas(int64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    const size_t left = digits.size() - i;  // digits from here to the end
    if (i > 0 && digits[i - 1] != '-' && left % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Keras's print_row: emits as many lines as the longest field needs.
void print_row(std::vector<std::string> cols, const std::vector<size_t>& positions, std::string& out) {
  const size_t n = positions.size();
  bool first = true;
  auto any_left = [&] {
    return std::any_of(cols.begin(), cols.end(), [](const std::string& c) { return !c.empty(); });
  };
  while (first || any_left()) {
    first = false;
    std::string line;
    for (size_t c = 0; c < n; ++c) {
      const size_t start = c == 0 ? 0 : positions[c - 1];
      const size_t space = c == n - 1 ? 0 : 2;
      size_t cutoff = positions[c] - start - space;
      std::string fit = cols[c].substr(0, cutoff);
      size_t nice = std::string::npos;
      for (const char* tok : {"),", "},", "],", "',"}) {
        size_t at = fit.find(tok);
        if (at != std::string::npos) nice = std::min(nice, at + 2);
      }
      if (nice != std::string::npos) {
        cutoff = nice;
        fit = fit.substr(0, cutoff);
      }
      if (c == 0) line += ' ';
      line += fit + std::string(space, ' ');
      cols[c] = cols[c].size() > cutoff ? cols[c].substr(cutoff) : std::string();
      if (line.size() < positions[c]) line += std::string(positions[c] - line.size(), ' ');
    }
    out += line + "\n";
  }
}

}  // namespace

std::string Model::summary() const {
  // The layers Keras lists (a nested backbone as one, null, with its
  // parameters and output shape), each with the layers it reads, by name
  // and node (the backbone's call is its node 1).
  struct Entry {
    LayerPtr layer;
    std::vector<NestedLayout::Ref> inbound;
  };
  std::map<const Layer*, size_t> index;
  for (size_t i = 0; i < nodes_.size(); ++i) index[nodes_[i].layer.get()] = i;
  auto inbound_of = [&](const LayerPtr& l, const std::optional<NestedLayout>& nl) {
    std::vector<NestedLayout::Ref> refs;
    if (!l) return std::vector<NestedLayout::Ref>{nl->ref(nl->entry)};
    for (int j : nodes_[index.at(l.get())].inbound)
      refs.push_back(nl ? nl->ref(nodes_[j].layer) : NestedLayout::Ref{nodes_[j].layer->name(), 0});
    return refs;
  };
  const std::optional<NestedLayout> nested = nested_layout(*this);
  std::vector<Entry> entries;
  if (nested) {
    for (const LayerPtr& l : nested->model_layers()) entries.push_back({l, inbound_of(l, nested)});
  } else {
    for (const Node& n : nodes_)
      if (!is_sequential() ||
          !dynamic_cast<const InputLayer*>(n.layer.get()))  // Sequential.layers leaves it out
        entries.push_back({n.layer, inbound_of(n.layer, nested)});
  }
  // Keras uses the plain three-column table when every depth of the graph
  // holds one layer with at most one input; otherwise it adds "Connected to".
  bool sequential_like = true;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string prev = i == 0                 ? ""
                             : entries[i - 1].layer ? entries[i - 1].layer->name()
                                                    : nested->nested->name;
    if (entries[i].inbound.size() > 1 ||
        (i > 0 && (entries[i].inbound.empty() || entries[i].inbound[0].name != prev)))
      sequential_like = false;
  }
  if (is_sequential() || (nested && !nested->nested->functional_outer)) sequential_like = true;

  std::vector<std::vector<std::string>> rows;
  for (const Entry& e : entries) {
    if (!e.layer) {
      int64_t params = 0;
      for (const LayerPtr& l : nested->inner) params += l->count_params();
      rows.push_back({nested->nested->name + " (Functional)",
                      shape_str(nodes_[index.at(nested->inner_output.get())].shape), std::to_string(params)});
    } else {
      const Layer& l = *e.layer;
      const bool is_input = dynamic_cast<const InputLayer*>(&l) != nullptr;
      // An InputLayer's output_shape is a list of one tuple in Keras.
      std::string shape = shape_str(nodes_[index.at(&l)].shape);
      if (is_input) shape = "[" + shape + "]";
      rows.push_back({l.name() + " (" + l.class_name() + ")", shape, std::to_string(l.count_params())});
    }
    if (!sequential_like) {
      std::string conn = "[";
      for (size_t k = 0; k < e.inbound.size(); ++k)
        conn += (k ? ", '" : "'") + e.inbound[k].name + "[" + std::to_string(e.inbound[k].node) + "][0]'";
      rows.back().push_back(conn + "]");
    }
  }

  const size_t line_length = sequential_like ? 65 : 98;
  const std::vector<double> fractions =
      sequential_like ? std::vector<double>{0.45, 0.85, 1.0} : std::vector<double>{.33, .55, .67, 1.0};
  std::vector<size_t> positions;
  for (double f : fractions) positions.push_back(static_cast<size_t>(line_length * f));
  std::vector<std::string> header{"Layer (type)", "Output Shape", "Param #"};
  if (!sequential_like) header.push_back("Connected to");

  std::string out = "Model: \"" + name_ + "\"\n";
  out += std::string(line_length, '_') + "\n";
  print_row(header, positions, out);
  out += std::string(line_length, '=') + "\n";
  for (const std::vector<std::string>& row : rows) {
    print_row(row, positions, out);
    out += std::string(line_length, ' ') + "\n";
  }
  const int64_t total = count_params(), trainable = count_trainable_params();
  out += std::string(line_length, '=') + "\n";
  out += "Total params: " + with_commas(total) + "\n";
  out += "Trainable params: " + with_commas(trainable) + "\n";
  out += "Non-trainable params: " + with_commas(total - trainable) + "\n";
  out += std::string(line_length, '_') + "\n";
  return out;
}

}  // namespace cnn::nn
