#pragma once
/// @file Group fairness of a federation's binary predictions: the joint histogram of (client S, sensitive
/// attribute Z, prediction Yhat), its mutual informations and statistical parity, and the partial information
/// decomposition of global and local disparity of Hamman and Dutta (ICLR 2024, arXiv 2307.11333).
/// Every information is in bits, of the histogram normalized to a distribution P(S, Z, Yhat), with 0 log 0 = 0.
#include <vector>

namespace decent {

/// The joint histogram of (client S in [0, K), sensitive attribute Z in {0, 1}, prediction Yhat in {0, 1}):
/// K x 2 x 2 non-negative counts (weights, so data fractions work too). Clients send only their four counts.
class FairnessCounts {
 public:
  /// An empty histogram over `clients` clients. Throws std::invalid_argument unless clients >= 1.
  explicit FairnessCounts(int clients);

  /// Adds `weight` to the count of (client, z, yhat). Throws std::invalid_argument unless
  /// 0 <= client < clients(), z and yhat are 0 or 1, and weight is finite and >= 0.
  void add(int client, int z, int yhat, double weight = 1);

  /// The count of (client, z, yhat); arguments are checked as in add.
  double count(int client, int z, int yhat) const;
  /// The number of clients K.
  int clients() const { return clients_; }
  /// The sum of all counts.
  double total() const;

 private:
  int clients_;
  std::vector<double> counts_;  // [(client * 2 + z) * 2 + yhat]
};

/// Mutual informations of P(S, Z, Yhat), in bits.
struct FairnessInformation {
  double global = 0;       ///< I(Z; Yhat): the global disparity
  double local = 0;        ///< I(Z; Yhat | S): the local disparity
  double z_client = 0;     ///< I(Z; S): how unevenly the sensitive groups are spread over the clients
  double yhat_client = 0;  ///< I(Yhat; S): how unevenly the predictions are spread over the clients
};

/// The mutual informations of the normalized histogram (each >= 0). Throws std::invalid_argument if it is empty
/// or its total overflows a double.
FairnessInformation fairness_information(const FairnessCounts& counts);

/// Global statistical parity P(Yhat = 1 | Z = 1) - P(Yhat = 1 | Z = 0), in [-1, 1]; NaN if no sample has
/// Z = 0 or none has Z = 1.
double statistical_parity(const FairnessCounts& counts);

/// Local statistical parity, one per client: SP_s = P(Yhat = 1 | Z = 1, S = s) - P(Yhat = 1 | Z = 0, S = s);
/// NaN for a client without a sample of Z = 0 or without one of Z = 1.
std::vector<double> local_statistical_parity(const FairnessCounts& counts);

/// The BROJA partial information decomposition (Bertschinger et al. 2014) of what the sources (Yhat, S) say
/// about the target Z, in bits. unique + redundant = mi_global and unique + synergistic = mi_local.
struct PidTerms {
  double unique = 0;         ///< Uni(Z: Yhat \ S): the paper's unique disparity
  double redundant = 0;      ///< Red(Z: Yhat, S): the paper's redundant disparity (global, not local)
  double synergistic = 0;    ///< Syn(Z: Yhat, S): the paper's masked disparity (local, cancels globally)
  double unique_client = 0;  ///< Uni(Z: S \ Yhat) = I(Z; S) - redundant
  double mi_global = 0;      ///< I(Z; Yhat) = unique + redundant
  double mi_local = 0;       ///< I(Z; Yhat | S) = unique + synergistic
  double mi_client = 0;      ///< I(Z; S) = unique_client + redundant
  int iterations = 0;        ///< Newton steps the solver took (0 if the margins fix Q)
};

/// The decomposition of the normalized histogram: Uni = min I_Q(Z; Yhat | S) over the Q with P's (Z, Yhat) and
/// (Z, S) margins, to within 1e-13 nats; all terms >= 0. Throws std::invalid_argument as fairness_information.
PidTerms partial_information_decomposition(const FairnessCounts& counts);

}  // namespace decent
